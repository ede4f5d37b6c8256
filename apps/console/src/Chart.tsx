// A daily bar chart drawn by uPlot (canvas, about 20 KB compressed), sized to its container, with
// the same numbers as a table for screen readers.
import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export interface Series {
  /** UTC days, YYYY-MM-DD, oldest first. */
  days: string[]
  values: number[]
}

const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8, 1e9]
const BYTE_STEPS = [1, 2, 5, 10, 20, 50, 100, 256, 512, 1024, 2048, 5120, 10240, 51200, 102400, 524288, 1048576, 5242880, 10485760, 104857600, 1073741824, 10737418240]

export function DailyChart({ title, series, format, color, bytes }: { title: string; series: Series; format: (n: number) => string; color: string; bytes?: boolean }) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (!el) return
    const xs = series.days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000)
    const bars = uPlot.paths.bars!({ size: [0.7, 24] })
    const plot = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: 160,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(bytes ? 1024 : 4, Math.ceil(max * 1.1))] } },
        axes: [
          { stroke: 'currentColor', grid: { show: false }, ticks: { show: false }, space: 60 },
          // Whole steps only: half a message is not a thing.
          { stroke: 'currentColor', size: 60, incrs: bytes ? BYTE_STEPS : INTEGER_STEPS, values: (_u, vals) => vals.map((v) => format(v)), grid: { stroke: 'rgba(128,128,128,0.2)' } },
        ],
        series: [{}, { label: title, stroke: color, fill: color, paths: bars, points: { show: false } }],
      },
      [xs, series.values],
      el,
    )
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height: 160 }))
    ro.observe(el)
    return () => {
      ro.disconnect()
      plot.destroy()
    }
  }, [series, title, format, color, bytes])
  // Bytes stored is a level (the last day says it), the counts are flows (they add up).
  const total = bytes ? (series.values[series.values.length - 1] ?? 0) : series.values.reduce((a, b) => a + b, 0)
  return (
    <figure className="chart">
      <figcaption>
        <span>{title}</span> <strong>{format(total)}</strong>
      </figcaption>
      <div ref={box} aria-hidden="true" className="chart-canvas" />
      <details>
        <summary>
          <span className="visually-hidden">{title}: </span>Numbers per day
        </summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Day (UTC)</th>
              <th scope="col">{title}</th>
            </tr>
          </thead>
          <tbody>
            {series.days.map((d, i) => (
              <tr key={d}>
                <td>{d}</td>
                <td>{format(series.values[i] ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  )
}
