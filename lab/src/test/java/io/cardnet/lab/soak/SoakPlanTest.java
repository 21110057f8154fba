package io.cardnet.lab.soak;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SoakPlanTest {
    @Test
    void flapsScaleWithTheDuration() {
        assertEquals(20, plan(Duration.ofMinutes(10)).count(SoakPlan.Flap.class));
        assertEquals(4, plan(Duration.ofMinutes(2)).count(SoakPlan.Flap.class));
        assertEquals(120, plan(Duration.ofHours(1)).count(SoakPlan.Flap.class));
        assertEquals(1, plan(Duration.ofSeconds(30)).count(SoakPlan.Flap.class), "at least one");
    }

    @Test
    void everyDisturbanceHappensOnceInOrderWithinTheRun() {
        SoakPlan p = plan(Duration.ofMinutes(10));
        for (Class<? extends SoakPlan.Action> once : List.of(SoakPlan.CardRestart.class, SoakPlan.CaptureStart.class,
                SoakPlan.CaptureStop.class, SoakPlan.RestoreSettings.class)) {
            assertEquals(1, p.count(once), once.getSimpleName());
        }
        assertEquals(2, p.count(SoakPlan.Setting.class));
        long last = -1;
        for (SoakPlan.Step s : p.steps()) {
            assertTrue(s.atMillis() >= last && s.atMillis() < 600_000, s.toString());
            last = s.atMillis();
        }
        assertTrue(p.steps().getFirst().action() instanceof SoakPlan.CardRestart, "the card restarts first");
        long start = p.steps().stream().filter(s -> s.action() instanceof SoakPlan.CaptureStart).findFirst()
                .orElseThrow().atMillis();
        long stop = p.steps().stream().filter(s -> s.action() instanceof SoakPlan.CaptureStop).findFirst()
                .orElseThrow().atMillis();
        assertTrue(start < stop);
    }

    @Test
    void faultsSwitchEveryFewSecondsAndNeverPoisonTheBytes() {
        SoakPlan p = plan(Duration.ofMinutes(10));
        assertTrue(p.count(SoakPlan.Fault.class) >= 100, "a switch every 5 s: " + p.count(SoakPlan.Fault.class));
        for (SoakPlan.Step s : p.steps()) {
            if (s.action() instanceof SoakPlan.Fault f) {
                assertFalse("poison".equals(f.kind()), "poison changes bytes after the link CRC");
            }
        }
    }

    @Test
    void aRunTooShortOrFaultsTooFastAreRefusedWithTheReason() {
        var e = assertThrows(IllegalArgumentException.class, () -> plan(Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("--duration must be at least 30s"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SoakPlan.of(Duration.ofMinutes(2), Duration.ofMillis(100), 1000));
        assertTrue(e.getMessage().contains("--fault-every"), e.getMessage());
    }

    private static SoakPlan plan(Duration d) {
        return SoakPlan.of(d, Duration.ofSeconds(5), 1000);
    }
}
