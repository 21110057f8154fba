package io.cardnet.lab.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.DatasetRenderingOrder;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.LineAndShapeRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Writes a benchmark's results.json, results.md and goodput.png into its results directory, and the chart of
 * {@code bench sendfile --target wire} (wire.png).
 */
public final class ReportWriter {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ReportWriter() {
    }

    /** Writes the three files into {@code dir} (created if needed). */
    public static void write(Results.Report report, Path dir) throws IOException {
        Files.createDirectories(dir);
        JSON.writeValue(dir.resolve("results.json").toFile(), report);
        Files.writeString(dir.resolve("results.md"), markdown(report));
        chart(report, dir.resolve("goodput.png"));
    }

    /** The tables a person reads: one row per configuration, then the references measured in the same run. */
    public static String markdown(Results.Report r) {
        StringBuilder b = new StringBuilder();
        b.append("# cardnet bench sendfile\n\n");
        b.append("Started ").append(r.startedAt()).append(" on ").append(r.machine()).append(". ")
                .append(String.format(Locale.ROOT, "%,d bytes per transfer, %d runs after %d warm-up.%n%n", r.size(),
                        r.runs(), r.warmup()));
        b.append("Integrity: ").append(r.integrity()).append("\n\n");
        b.append("\"relay\" is the one-thread TUN relay with the case's MTU, checksums and offload: what this machine"
                + " allows a TUN path in this run.\n\n");
        b.append("| MTU | offload | checksums | link | dir | goodput Gb/s (median, min–max) | × veth | the machine allows (relay) Gb/s | × relay |"
                + " model Gb/s | sender CPU s/GiB | kernel CPU s/GiB | card CPU s/GiB | interrupts/GiB | doorbells/GiB |"
                + " tool the limit | ").append(r.verify().id()).append(", every run | SHA-256 |\n");
        b.append("|---:|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|\n");
        for (Results.Case c : r.cases()) {
            BenchCase k = c.config();
            b.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %.2f (%.2f–%.2f) | %.2f | %.2f | %.2f | %s | %.3f | %.3f | %.3f | %,.0f | %,.0f | %s | %s | %s |%n",
                    k.mtu(), k.offload() ? "on" : "off", k.csum().name().toLowerCase(), k.link(), k.direction(),
                    c.medianGbps(), c.minGbps(), c.maxGbps(), c.ratioToVeth(), c.relayGbps(), c.ratioToRelay(),
                    c.predictedGbps() == null ? "–" : String.format(Locale.ROOT, "%.2f", c.predictedGbps()),
                    c.senderCpuSecondsPerGiB(), c.kernelCpuSecondsPerGiB(), c.cardCpuSecondsPerGiB(),
                    c.interruptsPerGiB(), c.doorbellsPerGiB(), c.toolLimited() ? "**yes**" : "no",
                    c.intact() ? "equal" : "**differs**", c.sha256Ok() ? "equal" : "**differs**"));
        }
        b.append("\n## References, same run\n\n");
        b.append("The bench's own sender and sink, and iperf3 -Z (one stream), over each reference path. \"machine busy\""
                + " is how many of the CPUs were busy during the iperf3 run (all of them: the machine allowed no more);"
                + " \"relay thread\" is the forwarding thread's share of one core (near 1: the relay itself was the"
                + " limit).\n\n");
        b.append("| path | MTU | checksums | offload | bench sender Gb/s | iperf3 -Z Gb/s | bench ÷ iperf3 | machine busy, CPUs |"
                + " relay thread, share of a core | tool the limit | SHA-256 |\n");
        b.append("|---|---:|---|---|---:|---:|---:|---:|---:|---|---|\n");
        List<Results.Reference> refs = new java.util.ArrayList<>(r.baselines());
        refs.addAll(r.relays());
        for (Results.Reference v : refs) {
            boolean veth = v.relayCpu() == null && v.name().equals("veth");
            b.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %.2f | %s | %s | %s | %s | %s | %s |%n", v.name(),
                    v.mtu(), veth ? "–" : v.csum().name().toLowerCase(), veth ? "–" : v.offload() ? "on" : "off",
                    v.medianGbps(), number(v.iperf3Gbps()),
                    v.iperf3Gbps() == null ? "–" : number(v.medianGbps() / v.iperf3Gbps()), number(v.busyCores()),
                    number(v.relayCpu()), v.toolLimited() ? "**yes**" : "no", v.sha256Ok() ? "equal" : "**differs**"));
        }
        Results.Toe0Iperf3 t = r.iperf3();
        if (t != null) {
            b.append(String.format(Locale.ROOT, "%n- iperf3 -Z over toe0 (mtu %d, checksums %s, offload %s): %s%n",
                    t.mtu(), t.csum().name().toLowerCase(), t.offload() ? "on" : "off",
                    t.gbps() == null ? t.note() : String.format(Locale.ROOT, "%.2f Gb/s; the relay allows %s (%s×)",
                            t.gbps(), number(t.relayGbps()), number(t.ratioToRelay()))));
        }
        for (Results.Reference v : refs) {
            if (v.toolLimited()) {
                b.append(String.format(Locale.ROOT, "%n**The bench's sender or sink was the limit over %s at MTU %d**: it"
                        + " moved %.2f Gb/s where iperf3 -Z moved %.2f (below %.0f%%). Ratios against this path compare"
                        + " the tool with itself; read iperf3's figures for what the path allows.%n", v.name(), v.mtu(),
                        v.medianGbps(), v.iperf3Gbps(), Results.TOOL_LIMIT_RATIO * 100));
            }
        }
        return b.toString();
    }

    private static String number(Double d) {
        return d == null || d.isNaN() ? "–" : String.format(Locale.ROOT, "%.2f", d);
    }

    /** Goodput per configuration as bars, with the veth and TUN-relay references of each configuration as lines. */
    static void chart(Results.Report r, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        DefaultCategoryDataset bars = new DefaultCategoryDataset();
        DefaultCategoryDataset veth = new DefaultCategoryDataset();
        for (Results.Case c : r.cases()) {
            String label = c.config().label();
            bars.addValue(c.medianGbps(), "cardnet (median)", label);
            veth.addValue(c.vethGbps(), "veth baseline", label);
            if (!Double.isNaN(c.relayGbps())) {
                veth.addValue(c.relayGbps(), "TUN relay (what the machine allows)", label);
            }
        }
        CategoryAxis x = new CategoryAxis("configuration (MTU, offload, checksums, link, direction)");
        x.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        CategoryPlot plot = barsAndDots(bars, x, veth, true);
        save(plot, "cardnet bench sendfile: goodput", png, Math.max(800, 120 * r.cases().size()));
    }

    /**
     * {@code --target wire}: goodput per way and wire MTU as bars, and on a second axis what a GiB cost the host
     * sender's kernel and the card, in milliseconds: the work the relay moves off the host, next to what it moves on.
     */
    public static void wireChart(WireSendfileBench.Report r, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        DefaultCategoryDataset bars = new DefaultCategoryDataset();
        DefaultCategoryDataset costs = new DefaultCategoryDataset();
        for (WireSendfileBench.Row w : r.rows()) {
            String label = w.via() + ", wire MTU " + w.wireMtu();
            bars.addValue(w.medianGbps(), "goodput (median)", label);
            costs.addValue(w.senderKernelSecondsPerGiB() * 1000, "host sender kernel CPU, ms/GiB", label);
            costs.addValue(w.cardCpuSecondsPerGiB() * 1000, "card-node CPU, ms/GiB", label);
        }
        CategoryPlot plot = barsAndDots(bars, new CategoryAxis("way to the wire peer"), costs, false);
        plot.setRangeAxis(1, new NumberAxis("CPU per GiB, ms"));
        plot.mapDatasetToRangeAxis(1, 1);
        save(plot, "cardnet bench sendfile --target wire: routed vs relayed by the card", png,
                Math.max(800, 200 * r.rows().size()));
    }

    /** Goodput as blue bars, and {@code dots} (red, then green) over them, joined by lines if {@code joined}. */
    private static CategoryPlot barsAndDots(DefaultCategoryDataset bars, CategoryAxis x, DefaultCategoryDataset dots,
                                            boolean joined) {
        BarRenderer bar = new BarRenderer();
        bar.setBarPainter(new StandardBarPainter());
        bar.setShadowVisible(false);
        bar.setSeriesPaint(0, new Color(0x2f6fb0));
        CategoryPlot plot = new CategoryPlot(bars, x, new NumberAxis("goodput, Gb/s"), bar);
        plot.setDataset(1, dots);
        LineAndShapeRenderer line = new LineAndShapeRenderer(joined, true);
        line.setSeriesPaint(0, Color.RED);
        line.setSeriesPaint(1, new Color(0x2e8b57));
        plot.setRenderer(1, line);
        plot.setDatasetRenderingOrder(DatasetRenderingOrder.FORWARD);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        return plot;
    }

    private static void save(CategoryPlot plot, String title, Path png, int width) throws IOException {
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, width, 600);
    }
}
