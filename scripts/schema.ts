import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSchema, printCanonicalSchema } from '../src/api/schema.js';
import { LivePubSub } from '../src/live/pubsub.js';

/** `emit` writes schema/schema.graphql from the code; `check` fails when the file differs. */
const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schema/schema.graphql');
const printed = printCanonicalSchema(await createSchema(new LivePubSub()));
const mode = process.argv[2];
if (mode === 'emit') {
  fs.writeFileSync(file, printed);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
} else if (mode === 'check') {
  const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (committed !== printed) {
    console.error('schema/schema.graphql is out of date with the code: run `npm run schema:emit` and commit it.');
    process.exit(1);
  }
  console.log('schema/schema.graphql is up to date');
} else {
  console.error('usage: schema.js emit|check');
  process.exit(2);
}
