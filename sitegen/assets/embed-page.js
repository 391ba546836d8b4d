// Player-only page for iframes: a video's own (<slug>/embed/, which knows its magnet,
// .torrent, web seeds and captions), or any magnet's (embed/#magnet:?xt=…, from the URL
// fragment, which browsers never send to a server).
import { play } from './player.js'

const settings = JSON.parse(document.getElementById('videoswarm-config').textContent)
const resolve = path => path && new URL(path, document.baseURI).href
play(document.querySelector('.vs-player'), {
  magnet: settings.magnet || decodeURIComponentSafe(location.hash.slice(1)),
  torrentUrl: resolve(settings.torrent),
  announce: settings.trackers,
  webSeeds: settings.webSeeds,
  iceServers: settings.iceServers,
  poster: resolve(settings.poster)
})
if (!settings.magnet) window.addEventListener('hashchange', () => location.reload())

function decodeURIComponentSafe (text) {
  // A pasted link may arrive percent-encoded as a whole ("magnet%3A%3Fxt…").
  if (!text.startsWith('magnet%3A')) return text
  try { return decodeURIComponent(text) } catch (err) { return text }
}
