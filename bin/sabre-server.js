#!/usr/bin/env node
// sabre-server: redis-server's command line, served by Sabre.
// Sabre's sources are TypeScript that Node >= 24 runs directly. When this
// shim is started by an older Node, it hands over to the Node 24 that the
// package pins (the npm package "node"). The V8 flag is explained in src/main.ts.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const flags = ['--max-semi-space-size=1'];
const major = Number(process.versions.node.split('.')[0]);
const hasFlags = flags.every((f) => process.execArgv.includes(f));

if (major >= 24 && hasFlags) {
  await import(main);
} else {
  let node = process.execPath;
  if (major < 24) {
    const require = createRequire(import.meta.url);
    node = require.resolve('node/bin/node');
  }
  const child = spawn(node, [...flags, main, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
