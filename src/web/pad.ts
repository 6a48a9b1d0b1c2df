/**
 * The drawing pad: dark ink on white paper, drawn with a mouse, a pen or a
 * finger (pointer events). The engine fits what is drawn into 28×28 the
 * way MNIST was made, inverting the polarity, so the pad need not.
 * @module
 */

/** Stroke width on the 280-pixel pad: about 2 pixels once the digit is scaled to MNIST's 20-pixel box. */
const INK_WIDTH = 22

export class DrawingPad {
  readonly #canvas: HTMLCanvasElement
  readonly #context: CanvasRenderingContext2D
  #last: { x: number; y: number } | undefined

  /** `onChange` runs after every piece of stroke drawn and after a clear. */
  constructor(canvas: HTMLCanvasElement, onChange: () => void) {
    const context = canvas.getContext('2d')
    if (!context) throw new Error('this browser has no 2D canvas')
    this.#canvas = canvas
    this.#context = context
    this.clear()
    const at = (event: PointerEvent): { x: number; y: number } => {
      const box = canvas.getBoundingClientRect()
      return { x: ((event.clientX - box.left) * canvas.width) / box.width, y: ((event.clientY - box.top) * canvas.height) / box.height }
    }
    canvas.addEventListener('pointerdown', (event) => {
      canvas.setPointerCapture(event.pointerId)
      this.#last = at(event)
      this.#line(this.#last, this.#last)
      onChange()
    })
    canvas.addEventListener('pointermove', (event) => {
      if (this.#last === undefined) return
      const next = at(event)
      this.#line(this.#last, next)
      this.#last = next
      onChange()
    })
    const end = (): void => {
      this.#last = undefined
    }
    canvas.addEventListener('pointerup', end)
    canvas.addEventListener('pointercancel', end)
  }

  clear(): void {
    this.#context.fillStyle = '#fff'
    this.#context.fillRect(0, 0, this.#canvas.width, this.#canvas.height)
  }

  /** The pad as a PNG file's bytes. */
  async png(): Promise<ArrayBuffer> {
    const blob = await new Promise<Blob | null>((resolve) => this.#canvas.toBlob(resolve, 'image/png'))
    if (!blob) throw new Error('the drawing pad could not be read')
    return blob.arrayBuffer()
  }

  #line(from: { x: number; y: number }, to: { x: number; y: number }): void {
    const c = this.#context
    c.strokeStyle = '#000'
    c.lineWidth = INK_WIDTH
    c.lineCap = 'round'
    c.lineJoin = 'round'
    c.beginPath()
    c.moveTo(from.x, from.y)
    c.lineTo(to.x, to.y)
    c.stroke()
  }
}
