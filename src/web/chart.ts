/**
 * The training chart: each batch's loss as a line and the test accuracy
 * after each epoch as dots, on one canvas, with no chart library.
 * @module
 */

const LOSS_COLOUR = '#d1495b'
const ACCURACY_COLOUR = '#2a9d8f'
const AXIS_COLOUR = '#5a6372'
const MARGIN = { left: 44, right: 44, top: 12, bottom: 28 }

/** A point at `x` epochs into the run. */
export interface Point {
  x: number
  y: number
}

export class TrainingChart {
  readonly #canvas: HTMLCanvasElement
  #epochs = 1
  #losses: Point[] = []
  #accuracies: Point[] = []
  #scheduled = false

  constructor(canvas: HTMLCanvasElement) {
    this.#canvas = canvas
    this.draw()
  }

  /** Clears the chart for a run of `epochs`. */
  start(epochs: number): void {
    this.#epochs = epochs
    this.#losses = []
    this.#accuracies = []
    this.#redraw()
  }

  addLoss(point: Point): void {
    this.#losses.push(point)
    this.#redraw()
  }

  addAccuracy(point: Point): void {
    this.#accuracies.push(point)
    this.#redraw()
  }

  /** Redraws once per frame however many batches arrive. */
  #redraw(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    requestAnimationFrame(() => {
      this.#scheduled = false
      this.draw()
    })
  }

  draw(): void {
    const context = this.#canvas.getContext('2d')
    if (!context) return
    const { width, height } = this.#canvas
    const plot = { x: MARGIN.left, y: MARGIN.top, w: width - MARGIN.left - MARGIN.right, h: height - MARGIN.top - MARGIN.bottom }
    // The first batches of a fresh model lose about ln 10 = 2.3; later ones far less.
    const lossTop = Math.max(0.5, Math.min(2.5, Math.max(...this.#losses.map((p) => p.y), 0)))
    const px = (x: number): number => plot.x + (x / this.#epochs) * plot.w
    const py = (y: number, top: number): number => plot.y + plot.h - (Math.max(0, Math.min(y, top)) / top) * plot.h

    context.clearRect(0, 0, width, height)
    context.font = '11px system-ui, sans-serif'
    context.strokeStyle = '#e3e6eb'
    context.fillStyle = AXIS_COLOUR
    context.lineWidth = 1
    for (let i = 0; i <= 4; i++) {
      const y = plot.y + (plot.h * i) / 4
      context.beginPath()
      context.moveTo(plot.x, y)
      context.lineTo(plot.x + plot.w, y)
      context.stroke()
      context.textAlign = 'right'
      context.fillStyle = LOSS_COLOUR
      context.fillText((lossTop * (1 - i / 4)).toFixed(2), plot.x - 6, y + 4)
      context.textAlign = 'left'
      context.fillStyle = ACCURACY_COLOUR
      context.fillText(`${100 - 25 * i}%`, plot.x + plot.w + 6, y + 4)
    }
    context.fillStyle = AXIS_COLOUR
    context.textAlign = 'center'
    for (let epoch = 0; epoch <= this.#epochs; epoch++) context.fillText(String(epoch), px(epoch), plot.y + plot.h + 16)
    context.fillText('epochs', plot.x + plot.w / 2, height - 2)

    context.strokeStyle = LOSS_COLOUR
    context.lineWidth = 1.5
    context.beginPath()
    this.#losses.forEach((p, i) => (i === 0 ? context.moveTo(px(p.x), py(p.y, lossTop)) : context.lineTo(px(p.x), py(p.y, lossTop))))
    context.stroke()

    context.fillStyle = ACCURACY_COLOUR
    for (const p of this.#accuracies) {
      context.beginPath()
      context.arc(px(p.x), py(p.y, 1), 5, 0, 2 * Math.PI)
      context.fill()
    }
  }
}
