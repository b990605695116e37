package dev.tether.benchmarks.internal;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Opens many idle plain Reactor Netty WebSocket sessions to a server in another JVM, at most
 * {@value #CONCURRENCY} handshakes at a time, on a thread of its own; each session stays open
 * until the server closes it or this opener is closed.
 */
final class SessionOpener implements AutoCloseable {

    static final int CONCURRENCY = 64;
    static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(30);

    private final ConnectionProvider provider = ConnectionProvider.newConnection();
    private final Disposable.Composite sessions = Disposables.composite();
    private final Thread opener;

    SessionOpener(String url, int count) {
        HttpClient client = HttpClient.create(provider);
        Semaphore handshakes = new Semaphore(CONCURRENCY);
        opener = new Thread(() -> {
            try {
                for (int i = 0; i < count && !sessions.isDisposed(); i++) {
                    if (!handshakes.tryAcquire(HANDSHAKE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                        return;
                    }
                    sessions.add(client.websocket().uri(url)
                            .handle((in, out) -> {
                                handshakes.release();
                                return in.receiveFrames().then();
                            })
                            .subscribe(v -> { }, e -> handshakes.release()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "session-opener");
        opener.setDaemon(true);
        opener.start();
    }

    @Override
    public void close() {
        sessions.dispose();
        opener.interrupt();
        provider.disposeLater().block(Duration.ofSeconds(10));
    }
}
