// The @atproto/lexicon side of bench/lexicon/compare.
//
// Usage: node validate.mjs RECORDS.json LEXICON_DIR ITERS
//
// Loads every lexicon under LEXICON_DIR into one `Lexicons`, reads the records (a JSON array
// of atproto JSON records), converts them once with `jsonToLex` (so `$link` becomes a CID and
// blobs become BlobRefs, as a PDS does before validating), then validates every record with
// `assertValidRecord` per iteration: 3 warm-ups, ITERS timed. Prints one JSON line.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

// A dynamic import loads both the CommonJS (0.6) and the ES module (0.7) builds.
const { Lexicons, jsonToLex } = await import('@atproto/lexicon')
const pkgUrl = new URL('./node_modules/@atproto/lexicon/package.json', import.meta.url)
const version = JSON.parse(readFileSync(pkgUrl, 'utf8')).version

const [recordsFile, lexiconDir, itersArg] = process.argv.slice(2)
const iters = Number(itersArg)
if (!recordsFile || !lexiconDir || !(iters > 0)) {
  console.error('usage: node validate.mjs RECORDS.json LEXICON_DIR ITERS')
  process.exit(2)
}

function jsonFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return jsonFiles(path)
    return name.endsWith('.json') ? [path] : []
  })
}

const lexicons = new Lexicons()
let loaded = 0
for (const file of jsonFiles(lexiconDir).sort()) {
  lexicons.add(JSON.parse(readFileSync(file, 'utf8')))
  loaded += 1
}

const records = JSON.parse(readFileSync(recordsFile, 'utf8')).map((r) => jsonToLex(r))

// Every record must pass once before timing: the bench times validation, not errors.
for (const r of records) lexicons.assertValidRecord(r.$type, r)

const WARM_UPS = 3
const times = []
for (let i = 0; i < WARM_UPS + iters; i++) {
  const start = process.hrtime.bigint()
  for (const r of records) lexicons.assertValidRecord(r.$type, r)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (i >= WARM_UPS) times.push(seconds)
}
times.sort((a, b) => a - b)
const n = records.length
const median = times[Math.floor(times.length / 2)]
console.log(
  JSON.stringify({
    name: `@atproto/lexicon ${version} (node ${process.versions.node})`,
    records: n,
    lexicons: loaded,
    iters,
    median_s: median,
    median_rps: n / median,
    min_rps: n / times[times.length - 1],
    max_rps: n / times[0],
  }),
)
