// Runs the player's content-format rules (sitegen/assets/format.js) on every magnet of a
// table (tests/data/magnets.json) and prints, as JSON, what it says of each, with its lists.
import { readFileSync } from 'node:fs'
import * as format from '../../sitegen/assets/format.js'

const table = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const verdicts = {}
for (const kind of ['good', 'bad']) {
  verdicts[kind] = table[kind].map(({ magnet }) => format.magnetProblem(magnet))
}
console.log(JSON.stringify({
  verdicts,
  lists: {
    TRACKER_SCHEMES: format.TRACKER_SCHEMES,
    WEBSOCKET_SCHEMES: format.WEBSOCKET_SCHEMES,
    HTTP_SCHEMES: format.HTTP_SCHEMES,
    PLAYABLE_EXTENSIONS: format.PLAYABLE_EXTENSIONS
  }
}))
