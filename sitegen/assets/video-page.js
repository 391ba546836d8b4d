// A video's own page: play it (HTTP first when it has a web seed, from its .torrent so no
// peer has to send metadata) and fill the share box.
import { play, embedSnippet } from './player.js'

const settings = JSON.parse(document.getElementById('videoswarm-config').textContent)
play(document.querySelector('.vs-player'), {
  magnet: settings.magnet,
  torrentUrl: settings.torrent && new URL(settings.torrent, document.baseURI).href,
  announce: settings.trackers,
  webSeeds: settings.webSeeds,
  iceServers: settings.iceServers,
  poster: settings.poster && new URL(settings.poster, document.baseURI).href
})

// The page's own embed (embed/ next to it) knows the video, its poster and its captions.
const link = document.querySelector('.vs-link')
if (!link.value) link.value = new URL('./', document.baseURI).href
document.querySelector('.vs-snippet').value = embedSnippet(null, { src: new URL('embed/', document.baseURI).href })

const status = document.querySelector('.vs-copied')
for (const button of document.querySelectorAll('.vs-copy[data-copy]')) {
  button.addEventListener('click', async () => {
    const field = document.getElementById(button.dataset.copy)
    field.select()
    try {
      await navigator.clipboard.writeText(field.value)
      status.textContent = `${button.textContent.replace(/^Copy /, '')} copied.`
    } catch (err) {
      status.textContent = 'Selected: press Ctrl+C (⌘C) to copy.'
    }
  })
}
