// Firefox ESR over WebDriver BiDi (puppeteer-core), for tests/support/engines.py.
// One JSON request a line on stdin, one JSON reply a line on stdout:
//   {"open": url} | {"evaluate": expression, "frame": bool} | {"errors": true}
// The browser gets a fresh profile from puppeteer; the prefs come as JSON in argv[2].
import puppeteer from 'puppeteer-core'
import readline from 'node:readline'

const browser = await puppeteer.launch({
  browser: 'firefox',
  executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr',
  headless: true,
  extraPrefsFirefox: JSON.parse(process.argv[2])
})
const page = await browser.newPage()
const errors = []
page.on('console', message => { if (message.type() === 'error') errors.push(message.text()) })
page.on('pageerror', error => errors.push(String(error.message || error)))
const reply = value => process.stdout.write(JSON.stringify(value) + '\n')
reply({ version: await browser.version() })

for await (const line of readline.createInterface({ input: process.stdin })) {
  const request = JSON.parse(line)
  try {
    if ('open' in request) {
      // The last page's teardown (its <video> requests to the service worker cut off) reports
      // errors too: they are its own, so they are dropped with it.
      await page.goto('about:blank')
      errors.length = 0
      await page.goto(request.open, { waitUntil: 'load' })
      reply({ value: null })
    } else if ('evaluate' in request) {
      const frame = request.frame ? page.mainFrame().childFrames()[0] : page.mainFrame()
      reply({ value: await frame.evaluate(request.evaluate) ?? null })
    } else if ('errors' in request) {
      reply({ value: errors })
    }
  } catch (error) {
    reply({ error: String(error.message || error) })
  }
}
await browser.close()
