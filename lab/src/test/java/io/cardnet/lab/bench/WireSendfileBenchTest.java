package io.cardnet.lab.bench;

import io.cardnet.card.services.IntegrityCheck;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WireSendfileBenchTest {
    private static WireSendfileBench.Row row(String via, double gbps, double senderKernel, double machineKernel) {
        return new WireSendfileBench.Row(via, 1500, gbps, gbps, gbps, 1, senderKernel, 0.7, 0.5, machineKernel, 0.5,
                1000, 500, true, true);
    }

    @Test
    void theGoalNeedsHalfTheSendersKernelCpuAndAtLeastRoutesGoodput() {
        var met = WireSendfileBench.goal(List.of(row("route", 5, 0.4, 1.0), row("relay", 5.5, 0.2, 1.2)));
        assertEquals(0.5, met.senderKernelRatio(), 1e-9);
        assertEquals(1.1, met.goodputRatio(), 1e-9);
        assertTrue(met.verdict().startsWith("met: "), met.verdict());
        var slower = WireSendfileBench.goal(List.of(row("route", 5, 0.4, 1.0), row("relay", 4, 0.1, 1.2)));
        assertTrue(slower.verdict().startsWith("not met: "), slower.verdict());
    }

    @Test
    void theChartIsAPngWithARowPerWay(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        List<WireSendfileBench.Row> rows = List.of(row("route", 5, 0.4, 1.0), row("relay", 5.5, 0.2, 1.2));
        var report = new WireSendfileBench.Report("now", 1 << 20, 1, 0, IntegrityCheck.CRC32C, rows,
                WireSendfileBench.goal(rows));
        java.nio.file.Path png = dir.resolve("wire.png");
        ReportWriter.wireChart(report, png);
        java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(png.toFile());
        assertEquals(800, image.getWidth());
        assertEquals(600, image.getHeight());
    }

    @Test
    void withoutBothWaysAtTheGoalsMtuThereIsNoVerdict() {
        var g = WireSendfileBench.goal(List.of(row("relay", 5, 0.2, 1.0)));
        assertNull(g.goodputRatio());
        assertTrue(g.verdict().startsWith("not measured"), g.verdict());
    }

    @Test
    void badMatrixValuesAreRefusedWithTheOptionsName() {
        var e = assertThrows(IllegalArgumentException.class, () -> new WireSendfileBench.Spec(List.of("tunnel"),
                List.of(1500), 1 << 20, 1, 1, IntegrityCheck.CRC32C));
        assertTrue(e.getMessage().contains("--via"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new WireSendfileBench.Spec(List.of("route"),
                List.of(100), 1 << 20, 1, 1, IntegrityCheck.CRC32C));
        assertTrue(e.getMessage().contains("--wire-mtu"), e.getMessage());
    }
}
