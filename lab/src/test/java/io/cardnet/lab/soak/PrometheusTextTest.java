package io.cardnet.lab.soak;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrometheusTextTest {
    private static final String PAGE = """
            # HELP cardnet_ring_occupancy descriptors posted and not yet completed
            # TYPE cardnet_ring_occupancy gauge
            cardnet_ring_occupancy{component="pci-link-sim",direction="c2h"} 3.0
            cardnet_ring_occupancy{component="pci-link-sim",direction="h2c"} 2.0
            cardnet_ring_occupancy_total{component="pci-link-sim"} 99.0
            jvm_buffer_memory_used_bytes{component="pci-link-sim",id="direct"} 573450.0
            jvm_buffer_memory_used_bytes{component="pci-link-sim",id="mapped"} 5.41212672E8
            """;

    @Test
    void sumsTheSeriesOfOneMetricWhoseLabelsMatch() {
        assertEquals(5.0, PrometheusText.sum(PAGE, "cardnet_ring_occupancy", ""), "another metric's prefix is not it");
        assertEquals(573450.0, PrometheusText.sum(PAGE, "jvm_buffer_memory_used_bytes", "id=\"direct\""));
        assertTrue(Double.isNaN(PrometheusText.sum(PAGE, "jvm_threads_live_threads", "")));
    }
}
