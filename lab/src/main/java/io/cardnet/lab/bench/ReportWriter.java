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
import java.util.Locale;

/** Writes a benchmark's results.json, results.md and goodput.png into its results directory. */
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

    /** The table a person reads: one row per configuration, and the baselines below. */
    public static String markdown(Results.Report r) {
        StringBuilder b = new StringBuilder();
        b.append("# cardnet bench sendfile\n\n");
        b.append("Started ").append(r.startedAt()).append(" on ").append(r.machine()).append(". ")
                .append(String.format(Locale.ROOT, "%,d bytes per transfer, %d runs after %d warm-up.%n%n", r.size(),
                        r.runs(), r.warmup()));
        b.append("| MTU | offload | checksums | link | dir | goodput Gb/s (median, min–max) | × veth | model Gb/s |"
                + " sender CPU s/GiB | kernel CPU s/GiB | card CPU s/GiB | interrupts/GiB | doorbells/GiB | SHA-256 |\n");
        b.append("|---:|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (Results.Case c : r.cases()) {
            BenchCase k = c.config();
            b.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %.2f (%.2f–%.2f) | %.2f | %s | %.3f | %.3f | %.3f | %,.0f | %,.0f | %s |%n",
                    k.mtu(), k.offload() ? "on" : "off", k.csum().name().toLowerCase(), k.link(), k.direction(),
                    c.medianGbps(), c.minGbps(), c.maxGbps(), c.ratioToVeth(),
                    c.predictedGbps() == null ? "–" : String.format(Locale.ROOT, "%.2f", c.predictedGbps()),
                    c.senderCpuSecondsPerGiB(), c.kernelCpuSecondsPerGiB(), c.cardCpuSecondsPerGiB(),
                    c.interruptsPerGiB(), c.doorbellsPerGiB(), c.sha256Ok() ? "equal" : "**differs**"));
        }
        b.append("\nBaselines, same sender and sink:\n\n");
        for (Results.Baseline v : r.baselines()) {
            b.append(String.format(Locale.ROOT, "- %s, MTU %d: %.2f Gb/s (median of %d)%n", v.name(), v.mtu(),
                    v.medianGbps(), v.runs().size()));
        }
        b.append("- iperf3 over toe0: ").append(r.iperf3()).append('\n');
        return b.toString();
    }

    /** Goodput per configuration as bars, with the veth baseline at each configuration's MTU as a line. */
    static void chart(Results.Report r, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        DefaultCategoryDataset bars = new DefaultCategoryDataset();
        DefaultCategoryDataset veth = new DefaultCategoryDataset();
        for (Results.Case c : r.cases()) {
            String label = c.config().label();
            bars.addValue(c.medianGbps(), "cardnet (median)", label);
            veth.addValue(c.vethGbps(), "veth baseline", label);
        }
        CategoryAxis x = new CategoryAxis("configuration (MTU, offload, checksums, link, direction)");
        x.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        BarRenderer bar = new BarRenderer();
        bar.setBarPainter(new StandardBarPainter());
        bar.setShadowVisible(false);
        bar.setSeriesPaint(0, new Color(0x2f6fb0));
        CategoryPlot plot = new CategoryPlot(bars, x, new NumberAxis("goodput, Gb/s"), bar);
        plot.setDataset(1, veth);
        LineAndShapeRenderer line = new LineAndShapeRenderer(true, true);
        line.setSeriesPaint(0, Color.RED);
        plot.setRenderer(1, line);
        plot.setDatasetRenderingOrder(DatasetRenderingOrder.FORWARD);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart("cardnet bench sendfile: goodput", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, Math.max(800, 120 * r.cases().size()), 600);
    }
}
