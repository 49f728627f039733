#!/usr/bin/env node
// Starts the reference Bluesky PDS (@atproto/pds) with its own in-memory PLC directory
// (@did-plc/server), both on 127.0.0.1, for Shopcast's publisher tests.
//
//   node tests/peers/pds/start.js <data-dir>
//
// First stdout line: `PDS http://127.0.0.1:<port>`; second: `PLC http://127.0.0.1:<port>`.
// Accounts take handles under `.test` (e.g. `alice.test`); invites are off. The admin
// password and the JWT secret are fixed test values (see README.md). The process stops on
// SIGTERM/SIGINT, or when its stdin is a pipe that closes, so a crashed test never leaves it
// behind.
'use strict'

// Quiet unless asked: the PDS logs every request through pino.
process.env.LOG_ENABLED = process.env.LOG_ENABLED ?? 'false'

const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')

const ADMIN_PASSWORD = 'shopcast-test-admin'
const JWT_SECRET = 'shopcast-test-jwt-secret'
const HOST = '127.0.0.1'

async function main() {
  const dataDir = process.argv[2]
  if (!dataDir) {
    console.error('usage: node start.js <data-dir>')
    process.exit(2)
  }
  fs.mkdirSync(dataDir, { recursive: true })

  const { PlcServer, Database: PlcDatabase } = require('@did-plc/server')
  const pds = require('@atproto/pds')
  const { Secp256k1Keypair } = require('@atproto/crypto')

  const plc = PlcServer.create({ db: PlcDatabase.mock(), port: await freePort() })
  bindToLoopback(plc.app)
  const plcServer = await plc.start()
  const plcUrl = `http://${HOST}:${plcServer.address().port}`

  // The PDS puts its port in its public URL and DID documents, so pick it before creating it.
  const port = await freePort()
  const rotationKey = await Secp256k1Keypair.create({ exportable: true })
  const env = {
    port,
    hostname: 'localhost',
    devMode: true,
    version: '0.0.0-shopcast-test',
    dataDirectory: dataDir,
    blobstoreDiskLocation: path.join(dataDir, 'blobs'),
    didPlcUrl: plcUrl,
    serviceHandleDomains: ['.test'],
    inviteRequired: false,
    rateLimitsEnabled: false,
    crawlers: [],
    jwtSecret: JWT_SECRET,
    adminPassword: ADMIN_PASSWORD,
    plcRotationKeyK256PrivateKeyHex: Buffer.from(await rotationKey.export()).toString('hex'),
  }
  const server = await pds.PDS.create(pds.envToCfg(env), pds.envToSecrets(env))
  bindToLoopback(server.app)
  const listener = await server.start()

  process.stdout.write(`PDS http://${HOST}:${listener.address().port}\nPLC ${plcUrl}\n`)

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await Promise.allSettled([server.destroy(), plc.destroy()])
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // Started with a pipe on stdin (as the Rust tests do): its end means the parent is gone.
  if (fs.fstatSync(0).isFIFO()) {
    process.stdin.on('end', stop)
    process.stdin.on('error', stop)
    process.stdin.resume()
  }
}

// Both servers call `app.listen(port)`, which binds every interface; keep them on loopback.
function bindToLoopback(app) {
  const listen = app.listen.bind(app)
  app.listen = (port, ...rest) => listen(port, HOST, ...rest)
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, HOST, () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
