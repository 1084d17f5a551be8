// A uPlot chart over days, sized to its container. The canvas is hidden from assistive technology:
// the page puts the same numbers in a table right after it (the text alternative), and the figure's
// caption says what the chart shows. uPlot (~20 kB gzipped) is fetched when the first chart mounts,
// so the page's numbers and tables do not wait for it (bench/bundles.ts: first load <= 200 kB).
import { useEffect, useRef } from "react";
import type uPlot from "uplot";

const loadPlot = () => import("./uplot.ts").then((module) => module.default);

export interface ChartSeries {
  label: string;
  color: string;
  values: (number | null)[];
  /** Bars (counts per day) instead of a line. */
  bars?: boolean;
}

const HEIGHT = 220;

export function TimeChart({ days, series, unit }: { days: string[]; series: ChartSeries[]; unit: string }) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const target = box.current;
    if (!target) return;
    let plot: uPlot | null = null;
    let resize: ResizeObserver | null = null;
    let gone = false;
    void loadPlot().then((UPlot) => {
      if (gone) return;
      // Noon of each day, so a bar sits in the middle of its day whatever the time zone.
      const xs = days.map((day) => Date.parse(`${day}T12:00:00Z`) / 1000);
      const bars = UPlot.paths.bars?.({ size: [0.7, 28] });
      const chart = new UPlot(
        {
          width: Math.max(200, target.clientWidth),
          height: HEIGHT,
          legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
          axes: [
            { stroke: "#667085", grid: { show: false } },
            { stroke: "#667085", label: unit, size: 56, grid: { stroke: "#eaecf0" } },
          ],
          series: [
            {},
            ...series.map((s) => ({
              label: s.label,
              stroke: s.color,
              width: s.bars ? 0 : 2,
              fill: s.bars ? s.color : undefined,
              paths: s.bars ? bars : undefined,
              points: { show: !s.bars && days.length <= 31 },
              spanGaps: false,
            })),
          ],
        },
        [xs, ...series.map((s) => s.values)] as uPlot.AlignedData,
        target,
      );
      plot = chart;
      resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, target.clientWidth), height: HEIGHT }));
      resize.observe(target);
    });
    return () => {
      gone = true;
      resize?.disconnect();
      plot?.destroy();
    };
  }, [days, series, unit]);

  return (
    <>
      <div className="chart" ref={box} aria-hidden="true" style={{ minHeight: HEIGHT }} />
      <ul className="chart-legend" aria-hidden="true">
        {series.map((s) => (
          <li key={s.label}><span className="swatch" style={{ background: s.color }} />{s.label}</li>
        ))}
      </ul>
    </>
  );
}
