// A video's own page: play it from its .torrent (no metadata exchange) and offer the embed code.
import { play, embedSnippet } from './player.js'

const settings = JSON.parse(document.getElementById('videoswarm-config').textContent)
const container = document.querySelector('.vs-player')
play(container, {
  magnet: settings.magnet,
  torrentUrl: settings.torrent && new URL(settings.torrent, document.baseURI).href,
  announce: settings.trackers,
  webSeeds: settings.webSeeds,
  iceServers: settings.iceServers,
  poster: settings.poster && new URL(settings.poster, document.baseURI).href
})

const snippet = document.querySelector('.vs-snippet')
document.querySelector('.vs-copy-embed').addEventListener('click', async () => {
  // xs= points at the .torrent, so an embed can start without a peer sending metadata.
  const xs = settings.torrent ? '&xs=' + encodeURIComponent(new URL(settings.torrent, document.baseURI).href) : ''
  snippet.value = embedSnippet(settings.magnet + xs)
  snippet.hidden = false
  snippet.select()
  try { await navigator.clipboard.writeText(snippet.value) } catch (err) { /* selected for a manual copy */ }
})
