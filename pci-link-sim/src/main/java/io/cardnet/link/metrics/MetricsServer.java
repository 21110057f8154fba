package io.cardnet.link.metrics;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.binder.jvm.JvmCompilationMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * Serves a process's Micrometer registry at {@code /metrics} in Prometheus text format. Every cardnet
 * process has one; meter names {@code cardnet.*} appear as {@code cardnet_*}.
 */
public final class MetricsServer implements AutoCloseable {
    private final HttpServer server;

    private MetricsServer(HttpServer server) {
        this.server = server;
    }

    /** A registry with JVM and CPU meters, tagged with the component's name. */
    public static PrometheusMeterRegistry newRegistry(String component) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("component", component);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new JvmCompilationMetrics().bindTo(registry);
        return registry;
    }

    /** Starts serving; {@code port} 0 picks a free port (see {@link #port()}). */
    public static MetricsServer start(PrometheusMeterRegistry registry, String host, int port) throws IOException {
        InetSocketAddress at = new InetSocketAddress(host, port);
        if (at.getAddress() != null && at.getAddress().isAnyLocalAddress()) {
            throw new IllegalArgumentException("/metrics on " + host + " would listen on every interface; give loopback"
                    + " (127.0.0.1) or one of the lab's own addresses");
        }
        HttpServer server;
        try {
            server = HttpServer.create(at, 16);
        } catch (IOException e) {
            throw new IOException("cannot serve metrics on " + host + ":" + port + ": " + e.getMessage()
                    + " (port in use? pick another with --metrics)", e);
        }
        server.createContext("/metrics", exchange -> {
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        // The JVM's total JIT compile time, one number, cheap to ask often: `lab up` watches it fall quiet under
        // traffic to know the data path is compiled (rendering all of /metrics would itself keep the JIT busy).
        server.createContext("/jit", exchange -> {
            byte[] body = ("compile_ms " + ManagementFactory.getCompilationMXBean().getTotalCompilationTime() + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.createContext("/", exchange -> {
            byte[] body = "cardnet: metrics at /metrics\n".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(exchange.getRequestURI().getPath().equals("/") ? 200 : 404, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        return new MetricsServer(server);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /**
     * Stops serving. The listening socket closes at once; the JDK server's dispatcher notices within its
     * 1 s select timeout, which a process on its way out need not wait for, so that part runs aside.
     */
    @Override
    public void close() {
        Thread.ofVirtual().name("metrics-stop").start(() -> server.stop(0));
    }
}
