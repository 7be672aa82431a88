import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDcgmDiag } from '../../src/node-checks/dcgm-diag.js';

const fixture = (f: string) =>
  readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/dcgm', f), 'utf8');

describe('parseDcgmDiag (dcgmi diag -r 1 -j)', () => {
  it('a passing run is ok; skipped tests are not failures', () => {
    const s = parseDcgmDiag(fixture('diag-r1-pass.json'));
    expect(s).toMatchObject({ outcome: 'ok', tests: 9, passed: 8, failed: [], warned: [] });
    expect(s.message).toBe('dcgmi diag passed 8 of 9 tests');
  });

  it('a failed test is a problem naming the test, the GPU and the first warning; warnings are kept apart', () => {
    const s = parseDcgmDiag(`Successfully ran diagnostic.\n${fixture('diag-r1-fail.json')}`);
    expect(s.outcome).toBe('problem');
    expect(s.failed).toEqual([
      {
        category: 'Deployment',
        test: 'Page Retirement/Row Remap',
        status: 'Fail',
        gpus: ['1'],
        warnings: [expect.stringContaining('row remapping failed')],
      },
    ]);
    expect(s.warned.map((w) => [w.test, w.gpus])).toEqual([['Persistence Mode', ['1']]]);
    expect(s.message).toMatch(
      /^dcgmi diag failed: Page Retirement\/Row Remap \(GPU 1\): GPU 1 had uncorrectable memory errors/,
    );
    expect(s.passed).toBe(1);
  });

  it('reads the older gpu_ids form', () => {
    const s = parseDcgmDiag(
      JSON.stringify({
        'DCGM GPU Diagnostic': {
          test_categories: [
            {
              category: 'Hardware',
              tests: [{ name: 'GPU Memory', results: [{ status: 'Fail', gpu_ids: [0, 3], warnings: ['DBE'] }] }],
            },
          ],
        },
      }),
    );
    expect(s.failed[0]).toMatchObject({ test: 'GPU Memory', gpus: ['0', '3'], warnings: ['DBE'] });
  });

  it('output without a diagnostic (host engine down, garbage) is unknown, never ok', () => {
    expect(parseDcgmDiag('Error: unable to establish a connection to the specified host: localhost')).toMatchObject({
      outcome: 'unknown',
      message: expect.stringContaining('unable to establish a connection') as string,
    });
    expect(parseDcgmDiag('{"DCGM GPU Diagnostic": {')).toMatchObject({
      outcome: 'unknown',
      message: expect.stringContaining('not JSON') as string,
    });
    expect(parseDcgmDiag('{"error": "The DCGM host engine is not running"}').message).toContain(
      'host engine is not running',
    );
    expect(parseDcgmDiag('{"DCGM GPU Diagnostic": {"test_categories": []}}').outcome).toBe('unknown');
  });
});
