// uPlot with its stylesheet, as one chunk that TimeChart imports when a chart first mounts.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export default uPlot;
