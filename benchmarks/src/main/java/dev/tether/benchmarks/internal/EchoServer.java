package dev.tether.benchmarks.internal;

import dev.tether.websocket.WebSocketServer;
import java.time.Duration;

/**
 * Tether's WebSocket server echoing every message, the same server for both WebSocket clients ({@link EchoProcess}
 * runs it in a JVM of its own).
 */
final class EchoServer implements AutoCloseable {

    private final WebSocketServer server;

    private EchoServer(WebSocketServer server) {
        this.server = server;
    }

    static EchoServer start() {
        WebSocketServer server = WebSocketServer.builder()
                .host("127.0.0.1")
                .path("/echo")
                .session(s -> s.maxFramePayload(WsPipe.MAX_FRAME))
                .handler(session -> session.send(session.receive()))
                .build();
        server.start().block(Duration.ofSeconds(10));
        return new EchoServer(server);
    }

    int port() {
        return server.port();
    }

    @Override
    public void close() {
        try {
            server.disposeNow(Duration.ofSeconds(5));
        } catch (RuntimeException | LinkageError e) {
            // The results are in; a failing shutdown must not lose them. The process exits next.
            System.err.println("bench: the echo server did not stop cleanly: " + e);
        }
    }
}
