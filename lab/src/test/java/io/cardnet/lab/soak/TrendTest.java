package io.cardnet.lab.soak;

import io.cardnet.lab.soak.ResourceSampler.Sample;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrendTest {
    private static final double MIB = 1 << 20;

    @Test
    void theLeastSquaresSlopeOfAStraightLineIsItsSlope() {
        Trend.Fit f = Trend.fit(new double[]{0, 1, 2, 3}, new double[]{5, 7, 9, 11});
        assertEquals(2.0, f.slope(), 1e-9);
        assertEquals(0.0, f.standardError(), 1e-9);
    }

    @Test
    void aSteadyLeakGrowsAndAFlatProcessDoesNot() {
        List<Sample> leak = series("leaky", 12, t -> 200 * MIB + t / 60_000.0 * 20 * MIB, t -> 30);
        assertTrue(verdict(leak, "RSS").startsWith("GROWING"), verdict(leak, "RSS"));
        List<Sample> flat = series("flat", 12, t -> 250 * MIB + (t / 10_000 % 2) * MIB, t -> 30);
        assertEquals("flat", verdict(flat, "RSS"));
        List<Sample> fds = series("fds", 60, t -> 250 * MIB, t -> 30 + t / 30_000);
        assertTrue(verdict(fds, "open fds").startsWith("GROWING"), "one fd per flap (2 a minute) must be found");
    }

    @Test
    void warmUpInTheFirstHalfIsNotALeak() {
        // a new JVM: 100 MiB in its first minute, then flat
        List<Sample> warm = series("warm", 24, t -> (t < 60_000 ? 150 + 100 * t / 60_000.0 : 250) * MIB, t -> 30);
        assertEquals("flat", verdict(warm, "RSS"));
    }

    @Test
    void aCountSteppingBetweenTwoLevelsIsNoise() {
        // the ends map four more fds while no fault holds descriptors in the simulator
        List<Sample> step = series("step", 24, t -> 250 * MIB, t -> t / 10_000 % 5 == 4 ? 37 : 33);
        assertEquals("flat", verdict(step, "open fds"));
    }

    @Test
    void fewSamplesAreNotJudged() {
        assertEquals("too few samples", verdict(series("short", 3, t -> 250 * MIB, t -> 30), "RSS"));
    }

    private static String verdict(List<Sample> samples, String resource) {
        return Trend.of(samples).stream().filter(t -> t.resource().equals(resource)).findFirst().orElseThrow().verdict();
    }

    /** {@code n} samples 10 s apart; eden falls every third sample (a young collection). */
    private static List<Sample> series(String name, int n, LongToDoubleFunction rss, LongToDoubleFunction fds) {
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long t = i * 10_000L;
            out.add(new Sample(name, 1, t, rss.applyAsDouble(t), fds.applyAsDouble(t), 20, 4 * MIB, Double.NaN,
                    (i % 3) * 30 * MIB));
        }
        return out;
    }
}
