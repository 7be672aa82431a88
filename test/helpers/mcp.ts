/** Starts the built CLI's MCP server and connects the official client to it. */
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root } from './isolated.js';

export const CLI = path.join(root, 'bin/overnight.js');

/** Writes a configuration file (with a private state directory) and returns its path. */
export function writeConfig(config: Record<string, unknown> = {}): { file: string; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ovn-cfg-'));
  const file = path.join(dir, 'config.json');
  // The kernel log is shared by every test on the machine (and holds the Xid 79 lines the kernel-log
  // tests inject): tests that are not about it do not read it.
  writeFileSync(file, JSON.stringify({ stateDir: path.join(dir, 'state'), kernelLog: { enabled: false }, ...config }));
  return { file, dir };
}

export async function connectStdio(
  config: Record<string, unknown> = {},
  env: Record<string, string> = {},
): Promise<{ client: Client; close: () => Promise<void>; stderr: () => string }> {
  const { file } = writeConfig(config);
  let stderr = '';
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', '--config', file],
    env: {
      ...(process.env as Record<string, string>),
      OVERNIGHT_NVML_LIBRARY: '/nonexistent/libnvidia-ml.so.1',
      ...env,
    },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const client = new Client({ name: 'overnight-tests', version: '1.0.0' });
  await client.connect(transport);
  return { client, close: () => client.close(), stderr: () => stderr };
}

/* eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters --
   T is the caller's declared shape of the tool's structured result */
export function structured<T = Record<string, unknown>>(r: unknown): T {
  const res = r as { structuredContent?: unknown; content?: { text: string }[]; isError?: boolean };
  if (res.isError) throw new Error(`tool error: ${res.content?.[0]?.text}`);
  const text = JSON.parse(res.content![0].text) as unknown;
  // structuredContent and the text are the same JSON
  if (JSON.stringify(text) !== JSON.stringify(res.structuredContent))
    throw new Error('structuredContent and text differ');
  return res.structuredContent as T;
}

export function errorText(r: unknown): string {
  const res = r as { content: { text: string }[]; isError?: boolean };
  if (!res.isError) throw new Error(`expected an error result, got ${JSON.stringify(res).slice(0, 200)}`);
  return res.content[0].text;
}

/** A client connected to `overnight serve --config <file>` (the file is returned for CLI checks). */
export async function connectClient(
  config: Record<string, unknown> = {},
  name = 'overnight-tests',
): Promise<{ client: Client; config: string }> {
  const { file } = writeConfig(config);
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'serve', '--config', file],
      env: { ...(process.env as Record<string, string>), OVERNIGHT_NVML_LIBRARY: '/none' },
      stderr: 'ignore',
    }),
  );
  return { client, config: file };
}
