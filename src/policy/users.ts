/** User names to uids for policy.scopeUser: /etc/passwd first, then NSS through `id -u` (LDAP, SSSD). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function resolveUid(user: string | number, field: string): number {
  if (typeof user === 'number') return user;
  if (/^\d+$/.test(user)) return Number(user);
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === user && f[2] !== undefined) return Number(f[2]);
    }
  } catch {
    /* no /etc/passwd: ask NSS below */
  }
  try {
    const out = execFileSync('id', ['-u', '--', user], {
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (/^\d+$/.test(out)) return Number(out);
  } catch {
    /* not known to NSS either */
  }
  const shown = user.length > 64 ? `${user.slice(0, 61)}...` : user;
  throw new Error(`${field}: got "${shown}"; expected a user name known to this node (/etc/passwd or NSS) or a uid`);
}
