package io.cardnet.link.metrics;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /metrics listens where it is told, and never on every interface. */
class MetricsServerTest {

    @Test
    void refusesTheWildcardAddressesWithAMessage() {
        for (String any : new String[]{"0.0.0.0", "::"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MetricsServer.start(MetricsServer.newRegistry("test"), any, 0));
            assertTrue(e.getMessage().contains("would listen on every interface"), e.getMessage());
        }
    }

    @Test
    void servesOnLoopback() throws Exception {
        try (MetricsServer s = MetricsServer.start(MetricsServer.newRegistry("test"), "127.0.0.1", 0)) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + s.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(r.body().contains("component=\"test\""), r.body());
        }
    }
}
