/**
 * Small-sample statistics for comparing models over several training runs
 * (`compare --seeds N`): each model gives a handful (typically 3–10) of final
 * test errors, too few for a normal approximation, so intervals and tests
 * use Student's t distribution. Everything is written out here (log-gamma by
 * Lanczos, the regularized incomplete beta function by Lentz's continued
 * fraction) to keep the package free of a statistics dependency.
 * @module
 */

/**
 * The largest degrees of freedom {@link studentTCdf} and
 * {@link studentTQuantile} take. Past it the continued fraction works with
 * x = df/(df + t²) so near 1 that its rounding (about df · 1e-16, relative)
 * would exceed the 1e-10 promised; the t distribution is then the normal one
 * to 6 digits, and a t-test of seeds never comes near (Welch's df is at most
 * n_a + n_b − 2).
 */
export const MAX_DF = 1e6

/** The arithmetic mean of `values`; `NaN` when there are none. Throws a RangeError on a non-finite value. */
export function mean(values: readonly number[]): number {
  checkFinite(values, 'values')
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

/**
 * The sample standard deviation of `values` (denominator n − 1, the unbiased
 * variance's root); `NaN` when there are fewer than 2. Throws a RangeError on
 * a non-finite value.
 */
export function sampleSd(values: readonly number[]): number {
  const m = mean(values)
  if (values.length < 2) return Number.NaN
  // Two passes (deviations from the mean) rather than Σv² − n·m², which
  // cancels badly when the spread is small next to the mean, as test errors' is.
  let squares = 0
  for (const v of values) squares += (v - m) ** 2
  return Math.sqrt(squares / (values.length - 1))
}

/**
 * The cumulative distribution function of Student's t distribution with `df`
 * degrees of freedom: P(T ≤ t). Relative accuracy about 1e-11 or better in
 * either tail, for any finite `t` (t² may overflow: it is never formed). `t`
 * may be ±Infinity (giving 0 or 1); `NaN` gives `NaN`. Throws a RangeError
 * unless 0 < df ≤ {@link MAX_DF}.
 */
export function studentTCdf(t: number, df: number): number {
  checkDf(df)
  if (Number.isNaN(t)) return Number.NaN
  if (t === 0) return 0.5
  if (t === Number.POSITIVE_INFINITY) return 1
  if (t === Number.NEGATIVE_INFINITY) return 0
  // P(|T| > |t|) = I_x(df/2, 1/2) with x = df/(df + t²) = 1/(1 + e^z), z = ln(t²/df).
  // x and 1 − x go in as logarithms: t² overflows past 1e154 (the quantile's
  // search at small df goes there), and 1 − x by subtraction would lose
  // the digits of a small t.
  const z = 2 * (Math.log(Math.abs(t)) - 0.5 * Math.log(df))
  const tail = 0.5 * regularizedBeta(-softplus(z), -softplus(-z), df / 2, 0.5)
  return t > 0 ? 1 - tail : tail
}

/**
 * The quantile function of Student's t distribution with `df` degrees of
 * freedom: the t with {@link studentTCdf}(t, df) = p, to a relative error
 * of about 1e-12 (absolute 1e-15 as p nears 1/2 and t nears 0, where the
 * CDF's own rounding dominates). Gives −Infinity at p = 0 and Infinity at
 * p = 1 (or where the quantile lies beyond the largest double, as at
 * df = 0.05, p = 1e-16). Throws a RangeError unless 0 ≤ p ≤ 1 and
 * 0 < df ≤ {@link MAX_DF}.
 */
export function studentTQuantile(p: number, df: number): number {
  checkDf(df)
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p must be in [0, 1] (got ${p})`)
  if (p === 0) return Number.NEGATIVE_INFINITY
  if (p === 1) return Number.POSITIVE_INFINITY
  if (p === 0.5) return 0
  // Solve on the lower tail (t ≥ 0, tail(t) = P(T ≤ −t) decreasing) so that a
  // tiny p keeps its relative precision; the distribution is symmetric.
  const q = Math.min(p, 1 - p)
  const tail = (t: number): number => studentTCdf(-t, df)
  let lo = 0
  let hi = 1
  // Doubling ends at Infinity at worst (tail 0), and the bisection then returns it.
  while (tail(hi) > q) {
    lo = hi
    hi *= 2
  }
  // Bisection until the bracket has no double between its ends: at most
  // ~1100 steps (fewer than 70 in practice) and immune to the flat tails that
  // make Newton's method overshoot at small df.
  for (;;) {
    const mid = lo + (hi - lo) / 2
    if (mid <= lo || mid >= hi) break
    if (tail(mid) > q) lo = mid
    else hi = mid
  }
  const t = lo + (hi - lo) / 2
  return p < 0.5 ? -t : t
}

/** A mean with its t confidence interval: what {@link meanInterval} returns. */
export interface MeanInterval {
  /** Number of values. */
  n: number
  /** Their mean (`NaN` when n = 0). */
  mean: number
  /** Their sample standard deviation (`NaN` when n < 2). */
  sd: number
  /** Lower end of the interval (`NaN` when n < 2). */
  low: number
  /** Upper end of the interval (`NaN` when n < 2). */
  high: number
}

/**
 * The mean of `values` with its Student t confidence interval at `level`
 * (default 0.95): mean ± t₍₁₊ₗₑᵥₑₗ₎/₂,ₙ₋₁ · sd/√n. With fewer than 2 values
 * there is no spread to estimate, so sd, low and high are `NaN`. Throws a
 * RangeError on a non-finite value, a level outside (0, 1) or more than
 * {@link MAX_DF} + 1 values.
 */
export function meanInterval(values: readonly number[], level = 0.95): MeanInterval {
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1) (got ${level})`)
  const n = values.length
  const m = mean(values)
  const sd = sampleSd(values)
  if (n < 2) return { n, mean: m, sd, low: Number.NaN, high: Number.NaN }
  // The upper quantile taken from the lower tail: (1 − level)/2 is exact
  // where (1 + level)/2 would round.
  const half = (-studentTQuantile((1 - level) / 2, n - 1) * sd) / Math.sqrt(n)
  return { n, mean: m, sd, low: m - half, high: m + half }
}

/** The result of {@link welchTest}. */
export interface WelchResult {
  /** The t statistic, (mean(a) − mean(b)) / standard error: negative when `a` is lower. */
  t: number
  /** Welch–Satterthwaite degrees of freedom (`NaN` when both samples are constant). */
  df: number
  /** Two-sided p-value. */
  p: number
}

/**
 * Welch's unequal-variance two-sample t-test of equal means: the t statistic,
 * the Welch–Satterthwaite degrees of freedom and the two-sided p-value (as
 * SciPy's `ttest_ind(a, b, equal_var=False)`). When both samples are
 * constant the standard error is 0 and df is undefined (`NaN`): equal means
 * give t = 0, p = 1, different ones t = ±Infinity, p = 0 (SciPy gives NaN
 * there; a table of seeds that all reached the same error should still read).
 * Throws a RangeError when either sample has fewer than 2 values or a
 * non-finite one (or the df exceeds {@link MAX_DF}, with samples of 500 000).
 */
export function welchTest(a: readonly number[], b: readonly number[]): WelchResult {
  for (const [name, s] of [['a', a] as const, ['b', b] as const]) {
    checkFinite(s, name)
    if (s.length < 2) {
      throw new RangeError(`welchTest needs at least 2 values in ${name} to estimate its variance (got ${s.length})`)
    }
  }
  const diff = mean(a) - mean(b)
  const va = sampleSd(a) ** 2 / a.length
  const vb = sampleSd(b) ** 2 / b.length
  const se2 = va + vb
  if (se2 === 0) {
    if (diff === 0) return { t: 0, df: Number.NaN, p: 1 }
    return { t: diff > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY, df: Number.NaN, p: 0 }
  }
  const t = diff / Math.sqrt(se2)
  // Welch–Satterthwaite, written with the shares of se² so that squaring
  // small variances cannot underflow.
  const ra = va / se2
  const rb = vb / se2
  const df = 1 / (ra ** 2 / (a.length - 1) + rb ** 2 / (b.length - 1))
  // 2·P(T ≤ −|t|) rather than 2·(1 − P(T ≤ |t|)): keeps small p-values exact.
  return { t, df, p: Math.min(1, 2 * studentTCdf(-Math.abs(t), df)) }
}

/**
 * The Holm–Bonferroni step-down procedure at family-wise error rate `alpha`
 * (default 0.05): which of the hypotheses with these p-values are rejected,
 * in the input order. Sorted ascending, p₍ₖ₎ (k = 1…m) is rejected while
 * p₍ₖ₎ ≤ alpha/(m − k + 1); the first that is not stops the procedure. Throws
 * a RangeError on a p-value outside [0, 1] or an alpha outside (0, 1).
 */
export function holm(pValues: readonly number[], alpha = 0.05): boolean[] {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1) (got ${alpha})`)
  pValues.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`pValues[${i}] is ${p}; p-values must be in [0, 1]`)
  })
  const m = pValues.length
  const order = pValues.map((_, i) => i).sort((i, j) => pValues[i] - pValues[j])
  const rejected = new Array<boolean>(m).fill(false)
  for (let k = 0; k < m; k++) {
    if (pValues[order[k]] > alpha / (m - k)) break
    rejected[order[k]] = true
  }
  return rejected
}

/** Throws a RangeError naming the first non-finite entry of `values`. */
function checkFinite(values: readonly number[], name: string): void {
  const bad = values.findIndex((v) => !Number.isFinite(v))
  if (bad !== -1) throw new RangeError(`${name}[${bad}] is ${values[bad]}; values must be finite numbers`)
}

function checkDf(df: number): void {
  if (!(df > 0 && df <= MAX_DF)) throw new RangeError(`df must be in (0, ${MAX_DF}] (got ${df})`)
}

/** ln(1 + e^z), without overflow for a large z. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))
}

/** Lanczos coefficients (g = 7, n = 9): about 15 significant digits for x ≥ 0.5. */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
]

/** ln Γ(x) for x > 0. */
function logGamma(x: number): number {
  // Reflection for small x (df < 1 gives a = df/2 < 0.5), where the series is less accurate.
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x)
  const z = x - 1
  let sum = LANCZOS[0]
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (z + i)
  const t = z + 7.5
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum)
}

/**
 * The remainder of Stirling's formula, ln Γ(x) − ((x − ½) ln x − x + ½ ln 2π),
 * by its asymptotic series: good to 1e-17 for x ≥ 10.
 */
function stirlingRemainder(x: number): number {
  const x2 = 1 / (x * x)
  return (1 / 12 - x2 * (1 / 360 - x2 * (1 / 1260 - x2 * (1 / 1680 - x2 * (1 / 1188 - x2 * (691 / 360360 - x2 / 156)))))) / x
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), for a, b > 0. */
function logBeta(a: number, b: number): number {
  const p = Math.min(a, b)
  const q = Math.max(a, b)
  if (q < 10 || p >= 10) return logGamma(a) + logGamma(b) - logGamma(a + b)
  // A large df: ln Γ(q) and ln Γ(p + q) are large and nearly equal, so their
  // difference is taken analytically (Stirling) rather than by subtraction,
  // which would lose about log10(q) digits (as R's lbeta does).
  const correction = stirlingRemainder(q) - stirlingRemainder(p + q)
  return logGamma(p) + correction + p - p * Math.log(p + q) + (q - 0.5) * Math.log1p(-p / (p + q))
}

/**
 * The regularized incomplete beta function I_x(a, b), given ln x and
 * ln(1 − x) so that neither x nor 1 − x loses digits near 1.
 */
function regularizedBeta(lnX: number, lnY: number, a: number, b: number): number {
  const x = Math.exp(lnX)
  const y = Math.exp(lnY)
  const front = Math.exp(a * lnX + b * lnY - logBeta(a, b))
  // The continued fraction converges fast for x < (a + 1)/(a + b + 2); past
  // that point use the symmetry I_x(a, b) = 1 − I_{1−x}(b, a).
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a
  return 1 - (front * betaContinuedFraction(y, b, a)) / b
}

/** The continued fraction of I_x(a, b), evaluated by the modified Lentz method. */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300
  const clamp = (v: number): number => (Math.abs(v) < tiny ? tiny : v)
  let c = 1
  let d = 1 / clamp(1 - ((a + b) * x) / (a + 1))
  let h = d
  for (let m = 1; m <= 10_000; m++) {
    // Even step, then odd step, of the fraction's terms.
    const even = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
    d = 1 / clamp(1 + even * d)
    c = clamp(1 + even / c)
    h *= d * c
    const odd = (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))
    d = 1 / clamp(1 + odd * d)
    c = clamp(1 + odd / c)
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < 2 * Number.EPSILON) return h
  }
  throw new Error(`incomplete beta continued fraction did not converge (x = ${x}, a = ${a}, b = ${b})`)
}
