package dev.tether.spring.boot.internal;

import dev.tether.websocket.WebSocketServer;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the Tether WebSocket server with the context; on shutdown marks the instance not ready
 * ({@link ReadinessState#REFUSING_TRAFFIC}) and drains every session (goodbye, 1001, bounded wait, abort).
 */
public final class WebSocketServerLifecycle implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(WebSocketServerLifecycle.class);

    private final WebSocketServer server;
    private final ApplicationEventPublisher events;
    private final int phase;
    private final Runnable precheck;

    /**
     * @param server   the server
     * @param events   where the readiness change is published
     * @param phase    the lifecycle phase
     * @param precheck run before the server starts; throws if it cannot start where it is configured
     */
    public WebSocketServerLifecycle(WebSocketServer server, ApplicationEventPublisher events, int phase, Runnable precheck) {
        this.server = server;
        this.events = events;
        this.phase = phase;
        this.precheck = precheck;
    }

    @Override
    public void start() {
        precheck.run();
        server.start().block(Duration.ofSeconds(30));
        if (server.isHosted()) {
            log.info("Tether WebSocket server accepting upgrades on Spring's HTTP server");
        } else {
            log.info("Tether WebSocket server listening on port {}", server.port());
        }
    }

    @Override
    public void stop() {
        refuseTraffic();
        server.stop().block(Duration.ofSeconds(60));
    }

    @Override
    public void stop(Runnable callback) {
        refuseTraffic();
        server.stop().subscribe(r -> log.info("Tether WebSocket server drained: {}", r), e -> {
            log.warn("draining the Tether WebSocket server failed: {}", e.toString());
            callback.run();
        }, callback);
    }

    private void refuseTraffic() {
        AvailabilityChangeEvent.publish(events, this, ReadinessState.REFUSING_TRAFFIC);
    }

    @Override
    public boolean isRunning() {
        return server.isRunning();
    }

    @Override
    public int getPhase() {
        return phase;
    }
}
