package dev.tether.samples.spring;

import dev.tether.websocket.WebSocketServer;
import java.time.Duration;
import org.springframework.context.SmartLifecycle;

/**
 * Ties a Tether {@link WebSocketServer} to the Spring application's lifecycle: started with the
 * context, and on shutdown drained in Spring's graceful phase — every session gets a close frame
 * with 1001 (and the announcer's goodbye), the drain is bounded, and whatever is left is aborted —
 * before the context goes on.
 */
public final class WebSocketServerLifecycle implements SmartLifecycle {

    private final WebSocketServer server;

    /**
     * @param server the server to manage
     */
    public WebSocketServerLifecycle(WebSocketServer server) {
        this.server = server;
    }

    @Override
    public void start() {
        server.start().block(Duration.ofSeconds(30));
    }

    @Override
    public void stop() {
        server.stop().block(Duration.ofSeconds(60));
    }

    @Override
    public void stop(Runnable callback) {
        server.stop(callback);
    }

    @Override
    public boolean isRunning() {
        return server.isRunning();
    }

    @Override
    public int getPhase() {
        return server.getPhase();
    }
}
