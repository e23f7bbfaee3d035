// Generates did:plc audit logs with the reference implementation: @did-plc/server (in-memory
// database) and @did-plc/lib, on loopback. Writes <name>.audit.json and <name>.did.json into
// the directory given as the first argument. Run it from a directory where
// `npm install @did-plc/server@0.0.1 @did-plc/lib@0.0.4` was done (see README.md).
const fs = require('fs')
const path = require('path')
const plc = require('@did-plc/lib')
const { PlcServer, Database } = require('@did-plc/server')
const { EcdsaKeypair: P256Keypair, Secp256k1Keypair } = require('@atproto/crypto')

const out = process.argv[2]
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function main() {
  const server = PlcServer.create({ db: Database.mock(), port: 0 })
  const listen = server.app.listen.bind(server.app)
  server.app.listen = (port, ...rest) => listen(port, '127.0.0.1', ...rest)
  const http = await server.start()
  const url = `http://127.0.0.1:${http.address().port}`
  const client = new plc.Client(url)
  const save = async (name, did) => {
    const log = await client.getAuditableLog(did)
    fs.writeFileSync(path.join(out, `${name}.audit.json`), JSON.stringify(log, null, 2) + '\n')
    try {
      const doc = await client.getDocument(did)
      fs.writeFileSync(path.join(out, `${name}.did.json`), JSON.stringify(doc, null, 2) + '\n')
    } catch (err) {
      console.log(`${name}: no document (${err.status})`)
    }
    console.log(`${name}: ${did}, ${log.length} entries`)
  }

  // alice: rotation keys [recovery (P-256), pds (secp256k1)]; the PDS key creates the DID,
  // rotates the atproto key and changes the handle, then the recovery key moves the PDS. A
  // stolen PDS key then changes the handle, and the recovery key undoes it (nullifying it).
  const recovery = await P256Keypair.create()
  const pds = await Secp256k1Keypair.create()
  const signing1 = await Secp256k1Keypair.create()
  const signing2 = await Secp256k1Keypair.create()
  const alice = await client.createDid({
    signingKey: signing1.did(),
    handle: 'alice.test',
    pds: 'https://pds.one.test',
    rotationKeys: [recovery.did(), pds.did()],
    signer: pds,
  })
  await sleep(5)
  await client.updateData(alice, pds, (op) => ({
    ...op,
    verificationMethods: { ...op.verificationMethods, atproto: signing2.did() },
    alsoKnownAs: ['at://alice.example.com'],
  }))
  await sleep(5)
  await client.updatePds(alice, recovery, 'https://pds.two.test')
  await sleep(5)
  const beforeHijack = await client.getLastOp(alice)
  await client.updateHandle(alice, pds, 'mallory.test')
  await sleep(5)
  const undo = await plc.createUpdateOp(beforeHijack, recovery, (op) => ({
    ...op,
    alsoKnownAs: ['at://alice.example.com'],
  }))
  await client.sendOperation(alice, undo)
  await save('alice', alice)

  // bob: created, then deactivated with a tombstone.
  const bobKey = await Secp256k1Keypair.create()
  const bob = await client.createDid({
    signingKey: bobKey.did(),
    handle: 'bob.test',
    pds: 'https://pds.one.test',
    rotationKeys: [bobKey.did()],
    signer: bobKey,
  })
  await sleep(5)
  await client.tombstone(bob, bobKey)
  await save('bob', bob)

  // carol: a legacy `create` genesis operation (signed by the signing key, rank 1), then a
  // regular update by the recovery key (rank 0).
  const carolRecovery = await Secp256k1Keypair.create()
  const carolSigning = await Secp256k1Keypair.create()
  const create = await plc.deprecatedSignCreate(
    {
      type: 'create',
      signingKey: carolSigning.did(),
      recoveryKey: carolRecovery.did(),
      handle: 'carol.test',
      service: 'https://pds.old.test',
      prev: null,
    },
    carolSigning,
  )
  // The directory no longer accepts `create` operations, so carol's log is assembled here
  // (with made-up timestamps) and checked with the reference validator instead.
  const carol = await plc.didForCreateOp(create)
  const update = await plc.updateHandleOp(create, carolRecovery, 'carol.example.com')
  await plc.validateOperationLog(carol, [create, update])
  const { cidForCbor } = require('@atproto/common')
  const log = []
  for (const [op, createdAt] of [
    [create, '2023-03-01T12:00:00.000Z'],
    [update, '2023-03-02T12:00:00.000Z'],
  ]) {
    const cid = (await cidForCbor(op)).toString()
    log.push({ did: carol, operation: op, cid, nullified: false, createdAt })
  }
  fs.writeFileSync(path.join(out, 'carol.audit.json'), JSON.stringify(log, null, 2) + '\n')
  console.log(`carol: ${carol}, ${log.length} entries`)

  await server.destroy()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
