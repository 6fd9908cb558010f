#!/usr/bin/env node
// Sabre ships TypeScript that Node >= 24 runs directly (type stripping).
import('../src/main.ts');
