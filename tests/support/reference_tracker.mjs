// The reference WebTorrent tracker (bittorrent-tracker from npm), started the way its
// README shows, on loopback, so tests and benchmarks can compare against it.
// Usage: node reference_tracker.mjs PORT [INTERVAL_MS]
import Server from 'bittorrent-tracker/server'

const port = Number(process.argv[2] || 0)
const interval = Number(process.argv[3] || 10 * 60 * 1000)
const server = new Server({ udp: false, http: true, ws: true, stats: true, interval })
server.on('error', err => { console.error(`reference tracker error: ${err.message}`); process.exit(1) })
server.on('warning', () => {})
server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${server.http.address().port}`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
