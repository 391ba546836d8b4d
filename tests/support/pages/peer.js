// One browser WebTorrent peer, driven by Playwright. Each function settles with a result
// or rejects with the torrent's state, so a failed test says where the transfer stalled.
import WebTorrent from '/webtorrent.min.js'

// No DHT, LSD, PEX, web seeds or STUN servers: the only way to find a peer is the
// tracker under test.
const client = new WebTorrent({
  dht: false,
  lsd: false,
  utPex: false,
  webSeeds: false,
  natUpnp: false,
  natPmp: false,
  tracker: { rtcConfig: { iceServers: [] } }
})
const errors = []
client.on('error', err => errors.push(String(err)))

function fromBase64 (text) {
  return Uint8Array.from(atob(text), c => c.charCodeAt(0))
}

function toBase64 (bytes) {
  let text = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  return btoa(text)
}

async function sha256Hex (buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buffer))
  return Array.from(digest, b => b.toString(16).padStart(2, '0')).join('')
}

function describe (torrent) {
  return JSON.stringify({
    infoHash: torrent.infoHash,
    ready: torrent.ready,
    progress: torrent.progress,
    numPeers: torrent.numPeers,
    uploaded: torrent.uploaded,
    announce: torrent.announce,
    errors
  })
}

// Settle with `work`, or reject after `timeoutMs` with the torrent's state.
function withTimeout (torrent, what, timeoutMs, work) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out: ${describe(torrent)}`)), timeoutMs)
    torrent.once('error', err => { clearTimeout(timer); reject(new Error(`${what}: ${err}`)) })
    work().then(
      value => { clearTimeout(timer); resolve(value) },
      err => { clearTimeout(timer); reject(err) })
  })
}

// Refuse a torrent that would announce anywhere but the trackers under test.
function checkAnnounce (torrent, announce) {
  const unexpected = torrent.announce.filter(url => !announce.includes(url))
  if (unexpected.length) throw new Error(`unexpected trackers: ${unexpected}`)
}

function once (emitter, event) {
  return new Promise(resolve => emitter.once(event, resolve))
}

// Seed `base64` as a file called `name`; settle once a tracker has answered an announce,
// so a peer that starts afterwards is sure to be matched with this one.
window.seedBytes = (base64, name, announce, timeoutMs = 20000) => {
  const file = new File([fromBase64(base64)], name)
  const torrent = client.seed(file, { announce })
  const announced = once(torrent, 'trackerAnnounce')
  return withTimeout(torrent, 'seed', timeoutMs, async () => {
    await once(torrent, 'seed')
    checkAnnounce(torrent, announce)
    await announced
    return { infoHash: torrent.infoHash, magnetURI: torrent.magnetURI, torrentFile: toBase64(torrent.torrentFile) }
  })
}

// Download a magnet URI or a base64 .torrent and return the SHA-256 of its only file.
window.download = (torrentId, announce, timeoutMs = 40000) => {
  const id = torrentId.startsWith('magnet:') ? torrentId : fromBase64(torrentId)
  const torrent = client.add(id, { announce })
  return withTimeout(torrent, 'download', timeoutMs, async () => {
    if (!torrent.done) await once(torrent, 'done')
    checkAnnounce(torrent, announce)
    return sha256Hex(await torrent.files[0].arrayBuffer())
  })
}

window.peerReady = true
