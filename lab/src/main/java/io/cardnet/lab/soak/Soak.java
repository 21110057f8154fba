package io.cardnet.lab.soak;

import com.fasterxml.jackson.databind.JsonNode;
import io.cardnet.lab.runtime.BusCapture;
import io.cardnet.lab.runtime.Component;
import io.cardnet.lab.runtime.ControlClient;
import io.cardnet.lab.runtime.Lab;
import io.cardnet.lab.runtime.LabException;
import io.cardnet.lab.runtime.LabRuntime;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * `cardnet soak`: runs a lab for a long time under traffic and disturbance and checks that nothing is lost and
 * nothing grows.
 *
 * <pre>
 *  attach to the lab · note its link settings and where its logs end · start traffic (bulk both ways, 10 ms pings)
 *  every 10 s: sample every process (RSS, fds, threads from /proc; direct memory, DMA slots from /metrics)
 *  run the plan: faults switched, flaps, the card's restart, a capture, settings changed ({@link SoakPlan})
 *  clear faults, put the settings back · stop traffic (every flow half-closes: its sink's count and SHA-256)
 *  wait until every DMA slot is back · read the logs · fit the trends · report
 * </pre>
 *
 * {@link #stop()} (Ctrl-C) cuts the plan short; the lab is still put back and the report still made.
 */
public final class Soak {
    /** The idle tail after the traffic stops in which every DMA slot must come back. */
    private static final long REST_MILLIS = 15_000;
    private static final long LINK_UP_MILLIS = 60_000;

    /**
     * @param rate        bytes per second of each routed flow (the card's sink flow gets half)
     * @param sampleEvery how often every process is sampled
     * @param captureDir  where the capture's pcapng goes
     */
    public record Options(SoakPlan plan, long rate, Duration sampleEvery, Path captureDir) {
    }

    private final Lab lab;
    private final Options options;
    private final Consumer<String> progress;
    private final Path control;
    private final List<SoakReport.Event> events = new ArrayList<>();
    private final List<ResourceSampler.Sample> samples = new ArrayList<>();
    private volatile boolean stopping;
    /** False once the plan is over: what the soak does after it (stopping flows, putting settings back) is no trend. */
    private volatile boolean sampling = true;
    private long t0;
    /** The link settings the soak found: put back by the plan once, and at the end. */
    private JsonNode found;

    public Soak(Lab lab, Options options, Consumer<String> progress) {
        this.lab = lab;
        this.options = options;
        this.progress = progress;
        this.control = lab.runDir().resolve("control.sock");
    }

    /** Ends the soak early (Ctrl-C): the current step finishes, the lab is put back, the report is made. */
    public void stop() {
        stopping = true;
    }

    public SoakReport run() throws Exception {
        if (lab.runtime() != LabRuntime.NETNS) {
            throw new LabException("cardnet soak runs on a netns lab (`cardnet lab up`); lab '" + lab.config().name()
                    + "' runs its card as " + lab.runtime().id());
        }
        lab.awaitLinkUp(Duration.ofSeconds(10));
        found = ControlClient.request(control, Map.of("op", "show")).path("settings");
        Map<String, Path> logs = new LinkedHashMap<>();
        for (Component c : Component.values()) {
            logs.put(c.displayName(), lab.runDir().resolve(c.command() + ".log"));
        }
        LogAudit audit = new LogAudit(logs);
        String startedAt = Instant.now().toString();
        t0 = System.currentTimeMillis();
        ResourceSampler sampler = new ResourceSampler(lab);
        List<ResourceSampler.Sample> idleBefore = sampler.sample(0);
        Thread sampling = Thread.ofPlatform().name("soak-sampler").start(() -> sampleLoop(sampler));
        SoakReport.AtRest rest = null;
        List<SoakReport.FlowResult> flows = List.of();
        SoakReport.Pings pings = null;
        long ran;
        progress.accept(String.format("soak of lab %s for %s: %d flaps, the card's restart, a capture, settings changed,"
                        + " faults switched every %d s; samples every %d s", lab.config().name(),
                SoakReport.clock(options.plan().duration().toMillis()), options.plan().count(SoakPlan.Flap.class),
                options.plan().faultEvery().toSeconds(), options.sampleEvery().toSeconds()));
        try (SoakTraffic traffic = SoakTraffic.start(lab, options.rate(), progress)) {
            if (!traffic.awaitFlowing()) {
                progress.accept("a flow moved nothing within 30 s; the soak goes on and will report it");
            }
            progress.accept("traffic running: host→wire and wire→host routed by the card, host→card sink, ping every 10 ms");
            try {
                runPlan(traffic);
            } finally {
                this.sampling = false;
                sampling.interrupt();
                // clearing the last fault moves the bus back to its direct rings, a retrain like any other step's:
                // an event, so the lines and lost pings it causes are explained by it
                long start = now();
                putBack();
                events.add(new SoakReport.Event("faults cleared, settings put back (soak ended)", "faults cleared",
                        start, now(), -1, null));
            }
            ran = now();
            progress.accept("stopping the traffic: every flow half-closes and reads its sink's count and SHA-256");
            flows = traffic.finish();
            pings = Pings.of(traffic.pinger(), events, t0);
            rest = awaitRest(sampler, idleBefore);
        } finally {
            stopping = true;
            sampling.interrupt();
            sampling.join(10_000);
        }
        LogAudit.Result logResult = LogAudit.classify(audit.linesSince(t0), events);
        List<SoakReport.ResourceTrend> trends;
        List<ResourceSampler.Sample> all;
        synchronized (samples) {
            all = List.copyOf(samples);
        }
        trends = Trend.of(all);
        boolean cut = ran + 1000 < options.plan().duration().toMillis();
        return new SoakReport(lab.config().name(), startedAt, options.plan().duration().toMillis(), ran, cut,
                options.sampleEvery().toMillis(), List.copyOf(events), flows, pings, trends, rest, logResult,
                Goals.judge(flows, trends, rest, logResult, cut), all);
    }

    private long now() {
        return System.currentTimeMillis() - t0;
    }

    // ------------------------------------------------------------------ the plan

    private void runPlan(SoakTraffic traffic) throws Exception {
        BusCapture capture = null;
        CompletableFuture<JsonNode> captured = null;
        SoakReport.Event lastFault = null;
        long nextProgress = 0;
        List<SoakPlan.Step> steps = new ArrayList<>(options.plan().steps());
        steps.add(new SoakPlan.Step(options.plan().duration().toMillis(), null));
        for (SoakPlan.Step step : steps) {
            while (!stopping && now() < step.atMillis()) {
                if (now() >= nextProgress) {
                    nextProgress = now() + 10_000;
                    progress.accept(status(traffic));
                }
                Thread.sleep(Math.min(100, Math.max(1, step.atMillis() - now())));
            }
            if (stopping || step.action() == null) {
                break;
            }
            long start = now();
            String note = null;
            switch (step.action()) {
                case SoakPlan.Flap f -> control(Map.of("op", "fault", "kind", "flap", "direction", "both",
                        "millis", f.millis()));
                case SoakPlan.Fault f -> switchFault(f);
                case SoakPlan.CaptureStart c -> {
                    Path file = options.captureDir().resolve("soak-capture.pcapng");
                    capture = BusCapture.start(control, 128, 0);
                    BusCapture running = capture;
                    captured = CompletableFuture.supplyAsync(() -> {
                        try (OutputStream out = Files.newOutputStream(file)) {
                            return running.copyTo(out);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }, SoakTraffic.ownThread("soak-capture"));
                    note = "to " + file + " (128 bytes of each packet)";
                }
                case SoakPlan.CaptureStop c -> {
                    note = stopCapture(capture, captured);
                    capture = null;
                }
                case SoakPlan.Setting s -> {
                    Map<String, Object> r = new LinkedHashMap<>(s.request());
                    r.put("op", "set");
                    control(r);
                }
                case SoakPlan.RestoreSettings r -> putBackSettings();
                case SoakPlan.CardRestart r -> {
                    traffic.finishCardFlow();
                    lab.restart(Component.CARD_NODE);
                    note = "card-node is now pid " + lab.pid(Component.CARD_NODE);
                }
            }
            long settled = settle();
            if (step.action() instanceof SoakPlan.CardRestart) {
                traffic.openCardFlow();
            }
            SoakReport.Event e = new SoakReport.Event(step.action().describe(), kind(step.action()), start, settled, -1, note);
            if (step.action() instanceof SoakPlan.Fault) {
                // a fault's effect on pings lasts until the next switch
                if (lastFault != null) {
                    events.set(events.indexOf(lastFault), withActiveUntil(lastFault, start));
                }
                lastFault = e;
            }
            events.add(e);
            if (!(step.action() instanceof SoakPlan.Fault)) {
                progress.accept(String.format("+%s  %s%s (back after %d ms)", SoakReport.clock(start), e.what(),
                        note == null ? "" : ": " + note, settled - start));
            }
        }
        if (lastFault != null) {
            events.set(events.indexOf(lastFault), withActiveUntil(lastFault, now()));
        }
        if (capture != null) {
            events.add(new SoakReport.Event("capture stopped (soak ended)", "capture stopped", now(), now(), -1,
                    stopCapture(capture, captured)));
        }
    }

    private static SoakReport.Event withActiveUntil(SoakReport.Event e, long until) {
        return new SoakReport.Event(e.what(), e.kind(), e.startMillis(), e.settledMillis(), until, e.note());
    }

    private static String kind(SoakPlan.Action a) {
        return switch (a) {
            case SoakPlan.Flap f -> "link flap";
            case SoakPlan.Fault f -> f.kind() == null ? "faults cleared" : "fault " + f.kind();
            case SoakPlan.CaptureStart c -> "capture started";
            case SoakPlan.CaptureStop c -> "capture stopped";
            case SoakPlan.Setting s -> "link settings";
            case SoakPlan.RestoreSettings r -> "link settings";
            case SoakPlan.CardRestart r -> "card restart";
        };
    }

    /**
     * The next fault on before the last one goes off, so the bus never runs a moment without one between two
     * faults (each change between "some fault" and "none" moves descriptors between the direct rings and the
     * simulator, which retrains the link).
     */
    private void switchFault(SoakPlan.Fault f) throws IOException {
        JsonNode faults = ControlClient.request(control, Map.of("op", "show")).path("settings").path("faults");
        if (f.kind() == null) {
            control(Map.of("op", "fault", "kind", "clear", "direction", "both"));
            return;
        }
        control(Map.of("op", "fault", "kind", f.kind(), "direction", "both", "probability", f.probability()));
        for (String d : new String[]{"h2c", "c2h"}) {
            faults.path(d).fields().forEachRemaining(k -> {
                if (!k.getKey().equals(f.kind()) && k.getValue().asDouble() > 0) {
                    try {
                        control(Map.of("op", "fault", "kind", k.getKey(), "direction", d, "probability", 0.0));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            });
        }
    }

    private static String stopCapture(BusCapture capture, CompletableFuture<JsonNode> captured) {
        if (capture == null) {
            return "no capture was running";
        }
        capture.stop();
        try {
            JsonNode summary = captured.get(30, java.util.concurrent.TimeUnit.SECONDS);
            return String.format("%,d packets captured, %,d dropped by a slow reader", summary.path("captured").asLong(),
                    summary.path("dropped").asLong());
        } catch (Exception e) {
            return "the capture did not end cleanly: " + e.getMessage();
        } finally {
            try {
                capture.close();
            } catch (IOException ignored) {
                // the capture is over either way
            }
        }
    }

    /** Waits until the link is up and toe0 has carrier again (a step may have retrained it); when that was. */
    private long settle() throws IOException, InterruptedException {
        Thread.sleep(200); // a flap or retrain takes the link down within a few ms of the request
        lab.awaitLinkUp(Duration.ofMillis(LINK_UP_MILLIS));
        return now();
    }

    private JsonNode control(Map<String, Object> request) throws IOException {
        return ControlClient.request(control, request);
    }

    /** Faults off, the link model and coalescing the soak found, and the link up again. */
    private void putBack() throws IOException, InterruptedException {
        control(Map.of("op", "fault", "kind", "clear", "direction", "both"));
        putBackSettings();
        settle();
    }

    private void putBackSettings() throws IOException {
        control(Map.of("op", "set", "model", found.path("model").asText()));
        for (String d : new String[]{"h2c", "c2h"}) {
            JsonNode c = found.path("coalescing").path(d);
            control(Map.of("op", "set", "direction", d, "coalesceFrames", c.path("frames").asInt(1),
                    "coalesceMicros", c.path("micros").asInt(0), "adaptive", c.path("adaptive").asBoolean(false)));
        }
    }

    // ------------------------------------------------------------------ sampling

    private void sampleLoop(ResourceSampler sampler) {
        long every = options.sampleEvery().toMillis();
        long next = 0;
        while (sampling && !stopping) {
            try {
                long wait = next - now();
                if (wait > 0) {
                    Thread.sleep(wait);
                }
                List<ResourceSampler.Sample> s = sampler.sample(now());
                synchronized (samples) {
                    if (sampling) {
                        samples.addAll(s);
                    }
                }
                next += every;
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private String status(SoakTraffic traffic) {
        List<ResourceSampler.Sample> last;
        synchronized (samples) {
            int n = samples.size();
            last = samples.subList(Math.max(0, n - 3), n).stream().toList();
        }
        StringBuilder b = new StringBuilder(String.format("[%s/%s] %,d MiB sent, pings %d sent %d answered",
                SoakReport.clock(now()), SoakReport.clock(options.plan().duration().toMillis()),
                traffic.bytesSent() >> 20, traffic.pinger().sent(), traffic.pinger().replies().size()));
        for (ResourceSampler.Sample s : last) {
            b.append(String.format("; %s %.0f MiB %.0f fds %.0f thr", s.component(), s.rss() / (1 << 20), s.fds(),
                    s.threads()));
        }
        return b.toString();
    }

    /**
     * After the traffic: waits until the simulator sees no DMA slot in use, at most {@link #REST_MILLIS}, and
     * compares every process's fds and threads with the idle lab's before the soak.
     */
    private SoakReport.AtRest awaitRest(ResourceSampler sampler, List<ResourceSampler.Sample> before)
            throws InterruptedException {
        long start = System.nanoTime();
        double inUse = Double.NaN;
        List<ResourceSampler.Sample> after = List.of();
        while (System.nanoTime() - start < REST_MILLIS * 1_000_000) {
            after = sampler.sample(now());
            inUse = after.stream().filter(s -> !Double.isNaN(s.dmaSlots()))
                    .mapToDouble(ResourceSampler.Sample::dmaSlots).findFirst().orElse(Double.NaN);
            if (inUse == 0) {
                break;
            }
            Thread.sleep(250);
        }
        long waited = (System.nanoTime() - start) / 1_000_000;
        List<SoakReport.Idle> idle = new ArrayList<>();
        for (ResourceSampler.Sample b : before) {
            after.stream().filter(a -> a.component().equals(b.component())).findFirst().ifPresent(a ->
                    idle.add(new SoakReport.Idle(b.component(), b.fds(), a.fds(), b.threads(), a.threads())));
        }
        return new SoakReport.AtRest(inUse, waited, idle);
    }
}
