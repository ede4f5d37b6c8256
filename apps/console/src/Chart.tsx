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

export function DailyChart({ title, series, format, color }: { title: string; series: Series; format: (n: number) => string; color: string }) {
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
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [
          { stroke: 'currentColor', grid: { show: false }, ticks: { show: false }, space: 60 },
          { stroke: 'currentColor', size: 56, values: (_u, vals) => vals.map((v) => format(v)), grid: { stroke: 'rgba(128,128,128,0.2)' } },
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
  }, [series, title, format, color])
  const total = series.values.reduce((a, b) => a + b, 0)
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
