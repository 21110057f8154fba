package io.cardnet.lab.runtime;

import java.io.IOException;

/**
 * The pair's watchdog: a small process of its own on the host side (started and stopped by the lab, by pid), so it
 * outlives whatever command started the lab and fails no card with it. Every {@value #POLL_MILLIS} ms it asks the
 * simulator's control socket for the active card's link: a card-node killed closes its bus socket (the link goes
 * down at once), a surprise-removed or flapping link is down, and a hung firmware stops heartbeating (the bus drops the
 * link after its liveness allowance, 5 × 100 ms by default). The first poll that finds the active's link not UP,
 * with the standby's UP, starts the takeover ({@link PairSwitch}). A failed card whose link is UP again (after `lab
 * restart card-node --card K`, the end of a flap, SIGCONT) becomes the standby.
 */
public final class PairMonitor {
    public static final long POLL_MILLIS = 10;

    private final Lab lab;

    public PairMonitor(Lab lab) {
        this.lab = lab;
    }

    /** Runs until interrupted or the lab goes away. */
    public void run() throws IOException, InterruptedException {
        PairSwitch.locked(lab.runDir(), () -> {
            PairState.load(lab.runDir()).withMonitor(ProcessHandle.current().pid()).save(lab.runDir());
            return null;
        });
        lab.progress("watching the pair's links every " + POLL_MILLIS + " ms");
        while (PairState.exists(lab.runDir())) {
            PairState s = PairState.load(lab.runDir());
            String active = linkState(s.active());
            if (!"UP".equals(active) && s.standby() >= 0 && "UP".equals(linkState(s.standby()))) {
                long detected = System.currentTimeMillis();
                lab.progress("card " + s.active() + "'s link is " + active + ": taking over with card " + s.standby());
                try {
                    PairSwitch.takeover(lab, s.standby(), false, "card " + s.active() + "'s link " + active, detected);
                } catch (IOException | RuntimeException e) {
                    lab.progress("the takeover failed: " + e.getMessage());
                }
            } else if (s.standby() >= 0 && !"UP".equals(linkState(s.standby()))) {
                PairSwitch.locked(lab.runDir(), () -> {
                    PairState now = PairState.load(lab.runDir());
                    if (now.standby() == s.standby()) {
                        now.withStandby(-1).save(lab.runDir());
                        lab.progress("the standby, card " + s.standby() + ", is lost: no failover until it is back");
                    }
                    return null;
                });
            } else if (s.standby() < 0) {
                int failed = PairPlan.other(s.active());
                if ("UP".equals(linkState(failed))) {
                    try {
                        PairSwitch.becomeStandby(lab, failed);
                    } catch (IOException | RuntimeException e) {
                        lab.progress("card " + failed + " is back but could not become the standby yet: " + e.getMessage());
                    }
                }
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /** Card {@code k}'s link as the bus sees it ("UP", "DOWN", "TRAINING", ...), or "unknown" if the bus does not answer. */
    private String linkState(int k) {
        try {
            return ControlClient.status(lab.card(k).controlSocket()).path("state").asText("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
