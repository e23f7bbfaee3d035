// Runs a did:plc directory (in memory) and a reference PDS in one Node process, both bound
// to 127.0.0.1, for atdata's integration tests and demo. Started by scripts/pds/pds.sh, which
// sets the environment: ATDATA_PDS_MODULES (the npm install's node_modules), PLC_PORT, and the
// PDS_* variables @atproto/pds reads. Prints one line "READY <pds-url> <plc-url>" when both
// servers accept connections, and shuts both down on SIGTERM/SIGINT.
import { createRequire } from 'node:module'
import fs from 'node:fs'
import path from 'node:path'

const modules = process.env.ATDATA_PDS_MODULES
const require = createRequire(path.join(modules, 'index.js'))
const plcPackage = require('@did-plc/server')
const pdsPackage = await import(require.resolve('@atproto/pds'))

// Neither server takes a host option; bind their express apps to loopback by hand so
// nothing here is reachable from outside the machine.
function loopbackOnly(app) {
  const original = app.listen.bind(app)
  app.listen = (port, ...rest) => original(port, '127.0.0.1', ...rest)
}

let plc
if (!process.env.PDS_DID_PLC_URL) {
  const port = Number(process.env.PLC_PORT ?? 2582)
  plc = plcPackage.PlcServer.create({ db: plcPackage.Database.mock(), port })
  loopbackOnly(plc.app)
  await plc.start()
  // The PDS refuses IP-literal hosts when it resolves DIDs, so name the host.
  process.env.PDS_DID_PLC_URL = `http://localhost:${port}`
}

fs.mkdirSync(process.env.PDS_DATA_DIRECTORY, { recursive: true })
const pds = await pdsPackage.PDS.fromEnv(pdsPackage.readEnv())
loopbackOnly(pds.app)
await pds.start()
console.log(`READY ${pds.ctx.cfg.service.publicUrl} ${process.env.PDS_DID_PLC_URL}`)

let closing = false
async function shutdown() {
  if (closing) return
  closing = true
  try {
    await pds.destroy()
    if (plc) await plc.destroy()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
