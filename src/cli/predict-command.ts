/**
 * The `predict` command: classify the images in files with a saved model,
 * printing class names.
 * @module
 */
import { type Command, Option } from 'commander'
import { errorMessage } from '../errors.js'
import { Model } from '../model.js'
import type { Device, DigitPrediction, FilePrediction, ImageFit } from '../types.js'
import type { RawFlags } from './flags.js'
import type { Io } from './io.js'
import { EXIT_FAILURE } from './usage-error.js'
import { deviceOption } from './schema-flags.js'

const DETAILS = `
How each image is fitted to the model's input (--fit):

  digit   (the default for a digit model: grey, classes 0..9) the way MNIST
          was made: gray (transparency counts as white paper), inverted when
          the background is light (most of the outermost ring of pixels
          brighter than mid-gray) so the digit is light on dark, cropped to
          the ink, scaled to 20 pixels on its larger side keeping the aspect
          ratio, and centred by its centre of mass in 28×28. An image with no
          digit in it (blank, a lone speck, scattered specks, faint shading)
          is not classified, since a model names a digit for anything: it is
          reported on stderr as "error: <file>: no digit found: <reason>"
          (with --json, as {"file","found":false,"reason"} on stdout).
  resize  (the default for any other model) plainly: grey or RGB as the
          model takes, resized to its height and width (bilinear, aspect not
          kept), as a folder's images are read for training. PNG, JPEG, BMP,
          GIF and WebP.

Each line names the class: "shoe.png: Sneaker  (Sneaker 97.1%, Sandal 2.0%, …)".

A file that cannot be read is reported on stderr as "error: <file>: <reason>".
In both cases the other files are still classified, and the exit status is 1.

Examples:
  $ googlenet-native train --save model.safetensors
  $ googlenet-native predict --load model.safetensors digit.png photo.jpg
  $ googlenet-native predict --load model.safetensors --json digits/*.png`

const percent = (p: number): string => `${(100 * p).toFixed(1)}%`

/** One line of text, e.g. `digit.png: 7  (7 99.8%, 2 0.1%, 3 0.0%)`, `shoe.png: Sneaker  (Sneaker 97.1%, …)`. */
export function formatFilePrediction(p: DigitPrediction): string {
  const top = p.top.map((t) => `${t.name} ${percent(t.probability)}`).join(', ')
  return `${p.file}: ${p.name}  (${top})${p.inverted ? '  [inverted: dark digit on light background]' : ''}`
}

/**
 * The `--json` line: `{"file","found":true,"label","name","top":[{"label","name","probability"}],"inverted","fit"}`,
 * or `{"file","found":false,"reason"}` for an image that holds no digit.
 */
export function filePredictionJson(p: FilePrediction): string {
  if (!p.found) return JSON.stringify({ file: p.file, found: false, reason: p.reason })
  return JSON.stringify({ file: p.file, found: true, label: p.label, name: p.name, top: p.top, inverted: p.inverted, fit: p.fit })
}

/**
 * Writes one file's result: its `--json` line or text line on stdout, or,
 * in text, an image without a digit as an error line on stderr.
 * @returns whether a digit was found
 */
function writeFilePrediction(io: Io, p: FilePrediction, json: boolean): boolean {
  if (json) io.stdout.write(`${filePredictionJson(p)}\n`)
  else if (p.found) io.stdout.write(`${formatFilePrediction(p)}\n`)
  else io.stderr.write(`error: ${p.file}: no digit found: ${p.reason}\n`)
  return p.found
}

/**
 * Adds `predict` to `program`.
 * @param done - receives the command's exit status
 */
export function addPredictCommand(program: Command, io: Io, done: (code: number) => void): Command {
  return program
    .command('predict')
    .description('classify the image in each file with a saved model, printing its class name and the top 3')
    .argument('<images...>', 'image files (PNG or JPEG for digits; PNG, JPEG, BMP, GIF or WebP with --fit resize)')
    .requiredOption('--load <file>', 'the model to use (a file written by train --save or Model.save, or a PyTorch state_dict)')
    .addOption(deviceOption())
    .addOption(new Option('--fit <rule>', "how an image is fitted to the model's input (default: digit for a digit model, else resize)").choices(['digit', 'resize']))
    .addOption(
      new Option('--json', 'one {"file","found":true,"label","name","top":[{"label","name","probability"}],"inverted","fit"} object per line ({"file","found":false,"reason"} for an image with no digit)'),
    )
    .addHelpText('after', DETAILS)
    .action(async (images: string[], raw: RawFlags) => {
      let model: Model
      try {
        model = await Model.load(String(raw.load), { device: raw.device as Device })
      } catch (error) {
        io.stderr.write(`error: ${errorMessage(error)}\n`)
        done(EXIT_FAILURE)
        return
      }
      let failed = false
      const fit = raw.fit === undefined ? {} : { fit: raw.fit as ImageFit }
      for (const image of images) {
        try {
          if (!writeFilePrediction(io, await model.predictFile(image, fit), raw.json === true)) failed = true
        } catch (error) {
          // The core's messages already start with the file's name.
          io.stderr.write(`error: ${errorMessage(error)}\n`)
          failed = true
        }
      }
      done(failed ? EXIT_FAILURE : 0)
    })
}
