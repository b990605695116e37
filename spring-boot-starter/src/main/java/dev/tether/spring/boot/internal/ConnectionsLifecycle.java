package dev.tether.spring.boot.internal;

import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Starts every client the starter built with the context and closes them all, concurrently and gracefully, on
 * shutdown. Its phase is below the WebSocket server's and Spring's web server's, so the clients start before them
 * and close after them.
 */
public final class ConnectionsLifecycle implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ConnectionsLifecycle.class);

    private final TetherConnections connections;
    private final Runnable instantiate;
    private final int phase;
    private final Duration closeTimeout;
    private volatile boolean running;

    /**
     * @param connections  the connections
     * @param instantiate  makes sure every client bean exists (lazy initialization)
     * @param phase        the lifecycle phase
     * @param closeTimeout the bound on closing all of them
     */
    public ConnectionsLifecycle(TetherConnections connections, Runnable instantiate, int phase, Duration closeTimeout) {
        this.connections = connections;
        this.instantiate = instantiate;
        this.phase = phase;
        this.closeTimeout = closeTimeout;
    }

    @Override
    public void start() {
        instantiate.run();
        for (ManagedConnection c : connections.all()) {
            log.info("starting Tether {} connection '{}'{}", c.kind(), c.name(), c.endpoints().isEmpty() ? "" : " to " + c.endpoints());
            c.start().run();
        }
        running = true;
    }

    @Override
    public void stop() {
        close().block(closeTimeout.plusSeconds(1));
    }

    @Override
    public void stop(Runnable callback) {
        close().subscribe(null, e -> callback.run(), callback);
    }

    private Mono<Void> close() {
        List<ManagedConnection> all = connections.all();
        return Flux.fromIterable(all)
                .flatMap(c -> c.close().get()
                        .timeout(closeTimeout)
                        .doOnSuccess(v -> log.info("closed Tether {} connection '{}'", c.kind(), c.name()))
                        .onErrorResume(e -> {
                            log.warn("closing Tether {} connection '{}' failed: {}", c.kind(), c.name(), e.toString());
                            return c.connection().abort().onErrorResume(x -> Mono.empty());
                        }))
                .then()
                .doFinally(s -> running = false);
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return phase;
    }
}
