import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';

describe('configuration', () => {
  it('has documented defaults', () => {
    const c = parseConfig({});
    expect(c.monitor).toMatchObject({ intervalSec: 300, alertThreshold: 0.8, recover: 'dry_run' });
    expect(c.server.host).toBe('127.0.0.1');
    expect(c.stateDir).toMatch(/overnight$/);
    expect(c.policy.maxActionsPerHour).toBe(20);
  });

  it.each([
    [{ thresholds: { memory: 80 } }, /thresholds\.memory: got 80; .*did you mean 0\.8\?/],
    [{ thresholds: { memroy: 0.8 } }, /thresholds\.memroy: unknown key; did you mean "memory"\?/],
    [{ polcy: {} }, /polcy: unknown key; did you mean "policy"\?/],
    [{ probes: [{ name: 'x', url: 'http://127.0.0.1/health', command: ['true'] }] }, /exactly one of url or command/],
    [{ monitor: { intervalSec: -1 } }, /monitor\.intervalSec: got -1/],
    [{ server: { token: 'short' } }, /server\.token/],
    [{ thresholds: { memoryStall: 50 } }, /thresholds\.memoryStall: got 50; critical must be at least the warning/],
    [{ monitor: { psiWindowUs: 1 } }, /monitor\.psiWindowUs: got 1; .*at least 500000/],
    [{ monitor: { psiMemoryStallUs: 3e6 } }, /monitor\.psiMemoryStallUs: got 3000000; .*must fit in/],
    [{ monitor: { psiPollMs: 2 } }, /monitor\.psiPollMs: got 2; .*0 \(off\) or at least 10 ms/],
    [
      { history: { retentionDays: 0.0001 } },
      /history\.retentionDays: got 0\.0001 \(8\.64 s\); must be at least gpu\.xidWindowSec/,
    ],
    [{ history: { retentionDays: 20 }, gpu: { xidWindowSec: 30 * 86_400 } }, /history\.retentionDays: got 20 /],
  ])('rejects %j clearly', (raw, pattern) => {
    expect(() => parseConfig(raw)).toThrow(pattern);
  });

  it('reads a file, and says when an explicit file is missing or not JSON', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ovn-config-'));
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ thresholds: { gpu: 0.9 } }));
    expect(loadConfig(good).config.thresholds.gpu).toBe(0.9);
    expect(() => loadConfig(path.join(dir, 'missing.json'))).toThrow(/file not found/);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    expect(() => loadConfig(bad)).toThrow(/not valid JSON/);
  });

  it('refuses an empty --config path instead of using the defaults (`--config "$UNSET"`)', () => {
    expect(() => loadConfig('')).toThrow(/got an empty path; expected a JSON configuration file/);
  });

  it('does not quote a file that is not JSON: it may hold a token, and Slurm shows the line to every user', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ovn-config-'));
    const leaky = path.join(dir, 'leaky.json');
    // V8 quotes the text around these faults: '..."{"token": s3cret-s3c"... is not valid JSON'.
    for (const text of ['{"server": {"token": s3cret-s3cret-s3cret-s3cret}}', '{"server": {"token": "s3cret"}, x}']) {
      writeFileSync(leaky, text);
      expect(() => loadConfig(leaky)).toThrow(/not valid JSON/);
      expect(() => loadConfig(leaky)).not.toThrow(/s3cret|"token"/);
    }
    const shadow = path.join(dir, 'shadow');
    writeFileSync(shadow, 'root:*:20200:0:99999:7:::\n');
    expect(() => loadConfig(shadow)).not.toThrow(/20200|root:/);
  });
});

describe('stateDir', () => {
  it('refuses a state directory under /proc, /sys or /dev (Node would loop forever creating it)', () => {
    for (const d of ['/proc/nope', '/sys/x', '/dev/shm/../null/x'])
      expect(() => parseConfig({ stateDir: d }), d).toThrow(/stateDir.*not under \/proc, \/sys or \/dev/s);
    expect(parseConfig({ stateDir: '/tmp/ovn-state' }).stateDir).toBe('/tmp/ovn-state');
  });
});

describe('configuration errors', () => {
  // A secret's characters never appear in an error: stderr, journald and Slurm's node reason are read by many.
  const messageOf = (raw: unknown): string => {
    try {
      parseConfig(raw);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('accepted');
  };
  it.each([
    [
      { server: { token: 'correct horse battery staple' } },
      'correct',
      /server\.token: got a secret string \(not shown\) of 28 characters: lowercase letters, whitespace; a token has/,
    ],
    [
      { server: { token: 'Zq9#short' } },
      'Zq9',
      /server\.token: got a secret string \(not shown\) of 9 characters: .*at least 16/,
    ],
    [
      { escalation: { webhooks: [{ url: 'hooks.slack.com/services/T0/B0/Sekr3tPart' }] } },
      'Sekr3t',
      /escalation\.webhooks\.0\.url: got a secret string \(not shown\) of \d+ characters/,
    ],
    [
      { escalation: { webhooks: 'https://user:Sekr3tPw@alerts.example.org/hook' } },
      'Sekr3t',
      /escalation\.webhooks: got a secret string \(not shown\) of \d+ characters/,
    ],
    [
      { escalation: { webhooks: [{ url: 'https://user:Sekr3tPw@alerts.example.org/hook', format: 'xml' }] } },
      'Sekr3t',
      /escalation\.webhooks\.0\.format: got "xml"/,
    ],
    [
      { escalation: { commands: [['curl', '-H', 'Authorization: Bearer Sekr3t'], []] } },
      'Sekr3t',
      /escalation\.commands\.1: got a secret array \(not shown\) of 0 items/,
    ],
  ])('never echoes a secret: %j', (raw, secretPart, pattern) => {
    const msg = messageOf(raw);
    expect(msg).toMatch(pattern);
    expect(msg).not.toContain(secretPart);
  });

  it('refuses probe and webhook URLs that are not http(s), and accepts those that are', () => {
    for (const url of ['file:///etc/passwd', 'ftp://x', 'gopher://h/']) {
      expect(() => parseConfig({ probes: [{ name: 'p', url }] })).toThrow(
        /probes\.0\.url: got ".*"; an http:\/\/ or https:\/\/ URL/,
      );
      expect(() => parseConfig({ escalation: { webhooks: [{ url }] } })).toThrow(
        /escalation\.webhooks\.0\.url: got a secret string \(not shown\).*an http:\/\/ or https:\/\/ URL/,
      );
    }
    const ok = parseConfig({
      probes: [{ name: 'p', url: 'https://127.0.0.1:8443/health' }],
      escalation: { webhooks: [{ url: 'http://hooks.example/x' }] },
    });
    expect(ok.probes[0]?.url).toBe('https://127.0.0.1:8443/health');
  });

  it('names the top level when the file is not an object', () => {
    expect(messageOf([1])).toMatch(
      /^invalid configuration:\n {2}- \(top level\): got \[1\]; .*expected object, received array$/,
    );
    expect(messageOf('x')).toMatch(/\(top level\): got "x"; /);
  });
});
