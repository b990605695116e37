package dev.tether.websocket.internal;

import dev.tether.core.spi.Attempt;
import dev.tether.core.CloseMode;
import dev.tether.core.ConnectionFailedException;
import dev.tether.core.Endpoint;
import dev.tether.core.spi.EstablishedSession;
import dev.tether.core.Initiator;
import dev.tether.core.SessionEnd;
import dev.tether.core.Verdict;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketSessionSpec;
import io.netty.handler.ssl.SslContext;
import dev.tether.websocket.WebSocketClosedException;
import dev.tether.websocket.WebSocketSession;
import dev.tether.websocket.WebSocketUpgradeException;
import dev.tether.websocket.internal.transport.Upgrades;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakeException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;

/**
 * One client attempt: the HTTP upgrade on Reactor Netty, then the session handed to the engine.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class ClientConnect {

    private ClientConnect() {
    }

    /**
     * @param client  the client settings
     * @param attempt the engine's attempt
     * @return the established session, or the reason there is none
     */
    public static Mono<EstablishedSession<WebSocketSession>> connect(ClientSettings client, Attempt attempt) {
        return Mono.defer(() -> {
            Endpoint endpoint = attempt.endpoint();
            String scheme = endpoint.scheme();
            if (!scheme.equals("ws") && !scheme.equals("wss")) {
                return Mono.error(new IllegalArgumentException("endpoint scheme must be ws or wss, but was '" + scheme + "'"));
            }
            URI uri = Upgrades.withQuery(endpoint.uri(), client.query().apply(attempt));
            Map<String, String> headers = client.headers().apply(attempt);
            List<String> protocols = client.subprotocols().apply(attempt);
            WebSocketSessionSpec session = client.session();
            SslContext tls = client.sslContext();
            SessionSettings settings = new SessionSettings(true, session.closeHandshakeTimeout(), client.tcpCloseWait(),
                    session.heartbeat(), client.watchdog(), session.maxFramePayload(), session.maxMessageBytes(),
                    session.inboundBuffer(), attempt.scheduler(), Long.MAX_VALUE, session.lingerTimeout(), session.lingerBytes());
            // WebSocket connections are never reused: no pool (a pool would also cap concurrent sessions per host).
            HttpClient http = client.httpClient().apply(HttpClient.newConnection()
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, client.handshakeTimeout().toMillis()))
                    .headers(h -> headers.forEach(h::set)));
            if (scheme.equals("wss")) {
                http = tls != null ? http.secure(ssl -> ssl.sslContext(tls)) : http.secure();
            }
            WebsocketClientSpec.Builder specBuilder = WebsocketClientSpec.builder();
            if (!protocols.isEmpty()) {
                specBuilder.protocols(String.join(",", protocols));
            }
            WebsocketClientSpec spec = specBuilder
                    .maxFramePayloadLength(session.maxFramePayload())
                    .compress(session.compression())
                    .handlePing(false)
                    .build();
            HttpClient finalHttp = http;
            Mono<EstablishedSession<WebSocketSession>> attemptMono = Mono.create(sink -> {
                AtomicReference<@Nullable CloseHandshakeHandler> created = new AtomicReference<>();
                Disposable d = finalHttp.websocket(spec).uri(uri).handle((in, out) -> {
                    in.withConnection(c -> {
                        CloseHandshakeHandler h = new CloseHandshakeHandler(c.channel(), settings, in.selectedSubprotocol())
                                .observer(new AttemptObserver(attempt));
                        created.set(h);
                        c.addHandlerLast(CloseHandshakeHandler.NAME, h);
                    });
                    CloseHandshakeHandler h = created.get();
                    if (h == null) {
                        return Mono.error(new IllegalStateException("the WebSocket connection was gone before its session began"));
                    }
                    sink.success(new ClientSession(h, Upgrades.safeUri(endpoint.uri())));
                    // Ends only when the channel is inactive, so Reactor Netty never closes a live channel itself.
                    return h.closed().then();
                }).subscribe(null, err -> {
                    if (created.get() == null) {
                        sink.error(mapError(err, endpoint.uri()));
                    }
                }, () -> {
                    if (created.get() == null) {
                        sink.error(new ConnectionFailedException("the WebSocket connection closed during the opening handshake",
                                Initiator.REMOTE_PEER, -1, null, null));
                    }
                });
                sink.onCancel(d);
            });
            Duration bound = client.handshakeTimeout();
            return attemptMono.timeout(bound, attempt.scheduler())
                    .onErrorMap(TimeoutException.class, e -> new ConnectionFailedException("the WebSocket opening handshake with "
                            + Upgrades.safeUri(endpoint.uri()) + " did not complete within " + bound.toMillis() + " ms (handshakeTimeout)",
                            Initiator.LOCAL_DETECTION, -1, Verdict.retry(), e));
        });
    }

    static Throwable mapError(Throwable err, URI uri) {
        Throwable mapped = mapError(err);
        if (mapped != err) {
            return mapped;
        }
        javax.net.ssl.SSLException tls = Upgrades.tlsCause(err);
        if (tls == null) {
            return err;
        }
        String host = uri.getHost() + ":" + (uri.getPort() == -1 ? 443 : uri.getPort());
        return new ConnectionFailedException("TLS handshake with " + host + " failed: " + Upgrades.describeTls(tls, uri.getHost())
                + ". The client verifies the server certificate and host name; give WebSocketClient.Builder.sslContext "
                + "a trust store that holds the server's certificate or its CA, and connect by a name the certificate lists",
                Initiator.LOCAL_DETECTION, -1, null, err);
    }

    static Throwable mapError(Throwable err) {
        if (err instanceof WebSocketClientHandshakeException h && h.response() != null) {
            HttpResponse response = h.response();
            int status = response.status().code();
            Duration retryAfter = Upgrades.parseRetryAfter(response.headers().get("Retry-After"));
            return new WebSocketUpgradeException(status, retryAfter, response.headers().get("Location"), err);
        }
        return err;
    }

    /** Puts the close steps on the lifecycle stream. */
    private record AttemptObserver(Attempt attempt) implements SessionObserver {
        @Override
        public void closeSent(int code, String reason) {
            attempt.reportCloseSent(code, reason);
        }

        @Override
        public void closeReceived(int code, String reason) {
            attempt.reportCloseReceived(code, reason);
        }

        @Override
        public void closed(CloseSummary summary) {
            attempt.reportNotice(WebSocketClient.CLOSED_NOTICE, summary);
        }
    }

    /** What was negotiated, printed in the {@code Connected} event. */
    record Negotiated(String uri, @Nullable String subprotocol) {
        @Override
        public String toString() {
            return "WebSocket{" + uri + (subprotocol == null ? "" : ", subprotocol=" + subprotocol) + "}";
        }
    }

    /** The session as the engine sees it. */
    private static final class ClientSession implements EstablishedSession<WebSocketSession> {
        private final CloseHandshakeHandler handler;
        private final Negotiated details;

        ClientSession(CloseHandshakeHandler handler, String uri) {
            this.handler = handler;
            this.details = new Negotiated(uri, handler.subprotocol().orElse(null));
        }

        @Override
        public WebSocketSession session() {
            return handler;
        }

        @Override
        public Object details() {
            return details;
        }

        @Override
        public Mono<SessionEnd> terminated() {
            return handler.closed().map(ClientConnect::toEnd);
        }

        @Override
        public Mono<Void> close(CloseMode mode) {
            return (mode == CloseMode.ABORT ? handler.abort() : handler.close(1000, "")).then();
        }
    }

    static SessionEnd toEnd(CloseSummary s) {
        int code = WebSocketClosedException.decisiveCode(s);
        return switch (s.initiator()) {
            case LOCAL_USER -> SessionEnd.byUser(code, s.clean() ? null : new WebSocketClosedException(s));
            case REMOTE_PEER -> SessionEnd.byPeer(code, new WebSocketClosedException(s));
            case LOCAL_DETECTION -> new SessionEnd(Initiator.LOCAL_DETECTION, code, new WebSocketClosedException(s));
        };
    }
}
