import { describe, expect, it } from 'vitest'
import {
  MAX_DF,
  holm,
  mean,
  meanInterval,
  sampleSd,
  studentTCdf,
  studentTQuantile,
  welchTest,
} from '../src/compare/stats.js'

/** Expects `actual` within `rel` of `expected`, relative to its size. */
function expectClose(actual: number, expected: number, rel = 1e-10): void {
  if (expected === actual) return
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected))
}

const T = [-50, -10, -2, -0.1, 0.1, 2, 10, 50]

/** scipy.stats.t.cdf(T, df) (SciPy 1.17.1), one row per df. */
const CDF: [number, number[]][] = [
  [1, [0.006365349100972797, 0.03172551743055357, 0.14758361765043326, 0.4682744825694465, 0.5317255174305535, 0.8524163823495667, 0.9682744825694465, 0.9936346508990272]],
  [2, [0.00019988007994404028, 0.004926228511662845, 0.09175170953613698, 0.4647327192070701, 0.53526728079293, 0.908248290463863, 0.9950737714883372, 0.9998001199200559]],
  [4.5, [1.1836973977841892e-7, 0.00015264028784169793, 0.054128953590562495, 0.46232203381534276, 0.5376779661846572, 0.9458710464094375, 0.9998473597121583, 0.9999998816302602]],
  [10, [1.23715516465134e-13, 7.947765877982062e-7, 0.03669401738537018, 0.4611603592822041, 0.5388396407177959, 0.9633059826146299, 0.9999992052234122, 0.9999999999998763]],
  [30, [9.357708829611355e-31, 2.287625704114809e-11, 0.027312522481491547, 0.4605048058951356, 0.5394951941048645, 0.9726874775185085, 0.9999999999771237, 1.0]],
  [1000, [1.379336206162586e-274, 8.335351479300069e-23, 0.02288517324662583, 0.46018218451180204, 0.539817815488198, 0.9771148267533741, 1.0, 1.0]],
  [1e6, [0, 7.63930538408909e-24, 0.02275026692565962, 0.4601721727460216, 0.5398278272539784, 0.9772497330743404, 1.0, 1.0]],
]

/** scipy.stats.t.ppf([0.025, 0.975, 0.995], df) (SciPy 1.17.1). */
const PPF: [number, number[]][] = [
  [1, [-12.706204736174705, 12.706204736174694, 63.656741162871526]],
  [2, [-4.302652729749464, 4.302652729749462, 9.924843200918287]],
  [4.5, [-2.658912347204404, 2.6589123472044034, 4.272823993011293]],
  [10, [-2.2281388519862753, 2.228138851986274, 3.16927267261695]],
  [30, [-2.042272456301238, 2.0422724563012378, 2.7499956535672254]],
  [1000, [-1.9623390808264085, 1.9623390808264083, 2.580754698065951]],
]

const A = [0.0081, 0.0092, 0.0077, 0.0088, 0.0085]
const B = [0.0095, 0.0102, 0.009, 0.0099, 0.0107]

describe('mean and sampleSd', () => {
  it('give the mean and the n − 1 standard deviation (numpy mean, std(ddof=1))', () => {
    expectClose(mean(A), 0.00846, 1e-14)
    expectClose(sampleSd(A), 0.0005856620185738529, 1e-12)
    expect(sampleSd([3, 3, 3])).toBe(0)
  })

  it('give NaN when there are too few values', () => {
    expect(mean([])).toBeNaN()
    expect(sampleSd([])).toBeNaN()
    expect(sampleSd([0.01])).toBeNaN()
  })

  it('refuse non-finite values, naming them', () => {
    expect(() => mean([1, Number.NaN])).toThrow('values[1] is NaN; values must be finite numbers')
    expect(() => sampleSd([Number.POSITIVE_INFINITY, 1])).toThrow(RangeError)
  })
})

describe('studentTCdf', () => {
  it.each(CDF)('matches scipy.stats.t.cdf at df = %s, in both tails', (df, expected) => {
    T.forEach((t, i) => expectClose(studentTCdf(t, df), expected[i]))
  })

  it('is 1/2 at 0, 0 and 1 at ±Infinity, NaN at NaN', () => {
    expect(studentTCdf(0, 3)).toBe(0.5)
    expect(studentTCdf(Number.NEGATIVE_INFINITY, 2.5)).toBe(0)
    expect(studentTCdf(Number.POSITIVE_INFINITY, 2.5)).toBe(1)
    expect(studentTCdf(Number.NaN, 2.5)).toBeNaN()
  })

  it('is the Cauchy distribution at df = 1 (closed form)', () => {
    // 1/2 + atan(t)/π, written as atan2(1, −t)/π: the sum cancels in the lower tail
    for (const t of [-1e6, -3, -1e-8, 0.7, 123]) expectClose(studentTCdf(t, 1), Math.atan2(1, -t) / Math.PI, 1e-12)
  })

  it('takes a t whose square overflows', () => {
    // the exact Cauchy tail, atan2(1, 1e200)/π; scipy.stats.t.cdf(-1e200, 1) gives 0.0 here
    expectClose(studentTCdf(-1e200, 1), 3.1830988618379068e-201, 1e-12)
    expect(studentTCdf(1e200, 1)).toBe(1)
  })

  it('refuses a df outside (0, MAX_DF]', () => {
    expect(studentTCdf(1, MAX_DF)).toBeGreaterThan(0.5)
    for (const df of [0, -1, MAX_DF * 1.001, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => studentTCdf(1, df)).toThrow(RangeError)
    }
    expect(() => studentTCdf(1, 0)).toThrow('df must be in (0, 1000000] (got 0)')
  })
})

describe('studentTQuantile', () => {
  it.each(PPF)('matches scipy.stats.t.ppf at 0.025, 0.975 and 0.995, df = %s', (df, expected) => {
    ;[0.025, 0.975, 0.995].forEach((p, i) => expectClose(studentTQuantile(p, df), expected[i], 1e-12))
  })

  it('is symmetric, 0 at 1/2 and ±Infinity at the ends', () => {
    expect(studentTQuantile(0.01, 7)).toBe(-studentTQuantile(0.99, 7))
    expect(studentTQuantile(0.5, 7)).toBe(0)
    expect(studentTQuantile(0, 7)).toBe(Number.NEGATIVE_INFINITY)
    expect(studentTQuantile(1, 7)).toBe(Number.POSITIVE_INFINITY)
  })

  it('finds quantiles beyond 1e154 at a small df, and Infinity past the largest double', () => {
    // mpmath (50 digits), root of betainc(df/2, 1/2, 0, df/(df + t²), regularized=True)/2 = 1e-15;
    // scipy.stats.t.ppf(1e-15, 0.05) gives -1.4990384980306196e153, where t² overflows
    expectClose(studentTQuantile(1e-15, 0.05), -1.0876044676001529e293, 1e-12)
    expect(studentTQuantile(1e-16, 0.05)).toBe(Number.NEGATIVE_INFINITY)
  })

  it('refuses p outside [0, 1] and a bad df', () => {
    for (const p of [-0.1, 1.5, Number.NaN]) expect(() => studentTQuantile(p, 3)).toThrow(RangeError)
    expect(() => studentTQuantile(0.5, -2)).toThrow(RangeError)
  })

  it('inverts studentTCdf for random df and p', () => {
    // mulberry32: a seeded PRNG, so that a failure reproduces.
    let state = 20240611
    const random = (): number => {
      state = (state + 0x6d2b79f5) | 0
      let z = Math.imul(state ^ (state >>> 15), 1 | state)
      z = (z + Math.imul(z ^ (z >>> 7), 61 | z)) ^ z
      return ((z ^ (z >>> 14)) >>> 0) / 4294967296
    }
    for (let i = 0; i < 500; i++) {
      const df = Math.exp(Math.log(0.2) + random() * Math.log(5e6)) // 0.2 to MAX_DF, log-uniform
      // p log-uniform down to 1e-12 in either tail, so the tails get as many draws as the middle
      const tailP = Math.exp(random() * Math.log(1e-12))
      const p = random() < 0.5 ? tailP / 2 : 1 - tailP / 2
      const q = studentTQuantile(p, df)
      const back = studentTCdf(q, df)
      // relative to the smaller tail: 1 − p is where the precision is
      expect(Math.abs(back - p), `df ${df}, p ${p}`).toBeLessThanOrEqual(1e-10 * Math.min(p, 1 - p) + 1e-16)
    }
  })
})

describe('meanInterval', () => {
  it('matches scipy.stats.t.interval(level, n − 1, loc=mean, scale=scipy.stats.sem(values))', () => {
    const r = meanInterval(A)
    expect(r.n).toBe(5)
    expectClose(r.mean, 0.00846, 1e-14)
    expectClose(r.sd, 0.0005856620185738529, 1e-12)
    expectClose(r.low, 0.007732804556421503, 1e-12)
    expectClose(r.high, 0.009187195443578497, 1e-12)
    const r99 = meanInterval(A, 0.99)
    expectClose(r99.low, 0.007254113809064371, 1e-12)
    expectClose(r99.high, 0.00966588619093563, 1e-12)
  })

  it('has no spread below 2 values', () => {
    const one = meanInterval([0.01])
    expect(one.n).toBe(1)
    expect(one.mean).toBe(0.01)
    for (const v of [one.sd, one.low, one.high]) expect(v).toBeNaN()
    const none = meanInterval([])
    expect(none.n).toBe(0)
    for (const v of [none.mean, none.sd, none.low, none.high]) expect(v).toBeNaN()
  })

  it('refuses non-finite values and a level outside (0, 1)', () => {
    expect(() => meanInterval([0.01, Number.NaN])).toThrow('values[1] is NaN')
    for (const level of [0, 1, 95, Number.NaN]) expect(() => meanInterval(A, level)).toThrow(RangeError)
  })
})

describe('welchTest', () => {
  it('matches scipy.stats.ttest_ind(a, b, equal_var=False) on two samples of 5', () => {
    // statistic, df, pvalue
    const r = welchTest(A, B)
    expectClose(r.t, -3.576832912153172, 1e-12)
    expectClose(r.df, 7.913682066775013, 1e-12)
    expectClose(r.p, 0.007351665489244477)
  })

  it('matches scipy.stats.ttest_ind(a, b, equal_var=False) on samples of 4 and 7', () => {
    const c = [0.0112, 0.0098, 0.0121, 0.0105]
    const d = [0.0101, 0.0096, 0.0099, 0.0103, 0.0094, 0.01, 0.0097]
    const r = welchTest(c, d)
    expectClose(r.t, 2.063514063836255, 1e-12)
    expectClose(r.df, 3.345459541238685, 1e-12)
    expectClose(r.p, 0.12160261632339042)
    // swapping the samples flips t only
    const s = welchTest(d, c)
    expect(s.t).toBe(-r.t)
    expect(s.p).toBe(r.p)
  })

  it('has df n − 1 of the varying sample when the other is constant', () => {
    const r = welchTest([0.01, 0.01, 0.01], [0.011, 0.012, 0.013, 0.014])
    expectClose(r.df, 3, 1e-12)
    expect(r.t).toBeLessThan(0)
  })

  it('does not depend on the scale of the values', () => {
    // squared variances of values near 1e-150 would underflow; t, df and p are scale-free
    const r = welchTest(A, B)
    const s = welchTest(A.map((v) => v * 1e-150), B.map((v) => v * 1e-150))
    expectClose(s.t, r.t, 1e-12)
    expectClose(s.df, r.df, 1e-12)
    expectClose(s.p, r.p, 1e-10)
  })

  it('decides the constant samples without a df', () => {
    expect(welchTest([0.01, 0.01], [0.01, 0.01, 0.01])).toEqual({ t: 0, df: Number.NaN, p: 1 })
    expect(welchTest([0.01, 0.01], [0.02, 0.02])).toEqual({ t: Number.NEGATIVE_INFINITY, df: Number.NaN, p: 0 })
    expect(welchTest([0.03, 0.03], [0.02, 0.02])).toEqual({ t: Number.POSITIVE_INFINITY, df: Number.NaN, p: 0 })
  })

  it('refuses samples below 2 values and non-finite values', () => {
    expect(() => welchTest([0.01], B)).toThrow('welchTest needs at least 2 values in a to estimate its variance (got 1)')
    expect(() => welchTest(A, [])).toThrow('welchTest needs at least 2 values in b to estimate its variance (got 0)')
    expect(() => welchTest(A, [0.01, Number.POSITIVE_INFINITY])).toThrow('b[1] is Infinity')
  })
})

describe('holm', () => {
  it('steps down: rejects the sorted p(k) while p(k) <= alpha/(m − k + 1), in input order', () => {
    // sorted 0.011 <= 0.05/3, 0.02 <= 0.05/2, 0.9 > 0.05: plain Bonferroni (0.05/3) would keep 0.02
    expect(holm([0.02, 0.011, 0.9])).toEqual([true, true, false])
    // 0.001 <= 0.05/3, then 0.03 > 0.05/2 stops it: 0.04 <= 0.05 is not rejected
    expect(holm([0.03, 0.001, 0.04])).toEqual([false, true, false])
    // 0.005 <= 0.0125, 0.01 <= 0.0167, 0.03 > 0.025
    expect(holm([0.01, 0.04, 0.03, 0.005])).toEqual([true, false, false, true])
    expect(holm([0.01, 0.04, 0.03, 0.005], 0.2)).toEqual([true, true, true, true])
    expect(holm([])).toEqual([])
  })

  it('refuses p-values outside [0, 1] and a bad alpha', () => {
    expect(() => holm([0.1, 1.2])).toThrow('pValues[1] is 1.2; p-values must be in [0, 1]')
    expect(() => holm([Number.NaN])).toThrow(RangeError)
    expect(() => holm([0.1], 0)).toThrow(RangeError)
  })
})
