// A Node webtorrent peer that downloads one torrent and prints the SHA-256 of its file.
//
//   node node_peer.mjs TORRENT TIMEOUT_MS ANNOUNCE_URL...
//
// TORRENT is a magnet URI or a .torrent path. The only way to find a peer is the given
// trackers (no DHT, LSD, PEX or web seeds). Prints `sha256 <hex>` and exits 0, or prints
// the torrent's state and exits 1 after TIMEOUT_MS.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as polyfill from 'webrtc-polyfill'
import WebTorrent from 'webtorrent'

// The polyfill never fires the final null ICE candidate, so simple-peer would wait 5 s
// before every offer and answer (field notes): fire it when gathering completes.
class RTCPeerConnection extends polyfill.RTCPeerConnection {
  constructor (config) {
    super(config)
    this.addEventListener('icegatheringstatechange', () => {
      if (this.iceGatheringState === 'complete') this.onicecandidate?.({ candidate: null })
    })
  }
}

const [torrentId, timeoutMs, ...announce] = process.argv.slice(2)
const client = new WebTorrent({
  dht: false,
  lsd: false,
  utPex: false,
  webSeeds: false,
  natUpnp: false,
  natPmp: false,
  tracker: {
    wrtc: { ...polyfill, RTCPeerConnection },
    rtcConfig: { bindAddress: '127.0.0.1', iceServers: [] }
  }
})
const errors = []
client.on('error', err => errors.push(String(err)))

const torrent = client.add(torrentId.startsWith('magnet:') ? torrentId : readFileSync(torrentId), {
  announce,
  // webtorrent stores under /tmp/webtorrent whatever TMPDIR says: keep each peer's pieces its own.
  path: tmpdir()
})
torrent.on('error', err => errors.push(String(err)))
const timer = setTimeout(() => {
  const { infoHash, progress, numPeers } = torrent
  console.log(`timeout ${JSON.stringify({ infoHash, progress, numPeers, errors })}`)
  process.exit(1)
}, Number(timeoutMs))

torrent.on('done', async () => {
  clearTimeout(timer)
  const bytes = Buffer.from(await torrent.files[0].arrayBuffer())
  console.log(`sha256 ${createHash('sha256').update(bytes).digest('hex')}`)
  process.exit(0)
})
