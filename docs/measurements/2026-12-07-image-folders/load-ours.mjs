// Loads a folder of images whole, as training does, and prints what it read.
import { Dataset } from 'googlenet-native'
const started = performance.now()
const data = await Dataset.fromFolder(process.argv[2])
console.log(JSON.stringify({ images: data.train.length + data.test.length, load_s: (performance.now() - started) / 1000 }))
