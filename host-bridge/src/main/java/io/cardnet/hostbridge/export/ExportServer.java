package io.cardnet.hostbridge.export;

import io.cardnet.link.http.HttpCounters;
import io.cardnet.link.http.HttpFileServer;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Serves the export directory to the card over HTTP/1.1, on toe0's address: the card's httpd fetches what wire
 * clients ask for from here. Read-only (GET and HEAD), no listings, nothing outside the directory (see
 * {@link ExportHandler}); file bodies leave by sendfile.
 */
public final class ExportServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ExportServer.class);

    private final HttpFileServer server;

    private ExportServer(HttpFileServer server) {
        this.server = server;
    }

    public static ExportServer start(ExportConfig config, MeterRegistry registry) throws IOException {
        if (!Files.isDirectory(config.directory())) {
            throw new IOException("--export " + config.directory() + " is not a directory; give a directory to serve to the card");
        }
        Path root = config.directory().toRealPath();
        HttpCounters counters = new HttpCounters(registry, "cardnet.host.export");
        HttpFileServer server = HttpFileServer.start("export", new InetSocketAddress(config.bind(), config.port()), 1,
                () -> new ExportHandler(root, config.client(), counters));
        log.info("export {} on http://{}:{}/ for {} only", root, config.bind().getHostAddress(), server.address().getPort(),
                config.client().getHostAddress());
        return new ExportServer(server);
    }

    public int port() {
        return server.address().getPort();
    }

    @Override
    public void close() {
        server.close();
    }
}
