package dev.tether.websocket.internal;

import dev.tether.core.Attempt;
import dev.tether.core.CloseMode;
import dev.tether.core.ConnectionFailedException;
import dev.tether.core.Endpoint;
import dev.tether.core.EstablishedSession;
import dev.tether.core.Initiator;
import dev.tether.core.SessionEnd;
import dev.tether.core.Verdict;
import dev.tether.websocket.CloseSummary;
import dev.tether.websocket.WebSocketClient;
import dev.tether.websocket.WebSocketClosedException;
import dev.tether.websocket.WebSocketSession;
import dev.tether.websocket.WebSocketUpgradeException;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakeException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
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
 */
public final class ClientConnect {

    private ClientConnect() {
    }

    /**
     * @param client  the client settings
     * @param attempt the engine's attempt
     * @return the established session, or the reason there is none
     */
    public static Mono<EstablishedSession<WebSocketSession>> connect(WebSocketClient client, Attempt attempt) {
        return Mono.defer(() -> {
            Endpoint endpoint = attempt.endpoint();
            String scheme = endpoint.scheme();
            if (!scheme.equals("ws") && !scheme.equals("wss")) {
                return Mono.error(new IllegalArgumentException("endpoint scheme must be ws or wss, but was '" + scheme + "'"));
            }
            URI uri = withQuery(endpoint.uri(), client.query().apply(attempt));
            Map<String, String> headers = client.headers().apply(attempt);
            List<String> protocols = client.subprotocols().apply(attempt);
            SessionSettings settings = new SessionSettings(true, client.closeHandshakeTimeout(), client.tcpCloseWait(),
                    client.heartbeat(), client.watchdog().orElse(null), client.maxFramePayload(), client.maxMessageBytes(),
                    client.inboundBuffer(), attempt.scheduler(), Long.MAX_VALUE, client.lingerTimeout(), client.lingerBytes());
            // WebSocket connections are never reused: no pool (a pool would also cap concurrent sessions per host).
            HttpClient http = client.httpClient().apply(HttpClient.newConnection()
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, client.handshakeTimeout().toMillis()))
                    .headers(h -> headers.forEach(h::set)));
            if (scheme.equals("wss")) {
                http = client.sslContext().isPresent() ? http.secure(spec -> spec.sslContext(client.sslContext().get())) : http.secure();
            }
            WebsocketClientSpec.Builder specBuilder = WebsocketClientSpec.builder();
            if (!protocols.isEmpty()) {
                specBuilder.protocols(String.join(",", protocols));
            }
            WebsocketClientSpec spec = specBuilder
                    .maxFramePayloadLength(client.maxFramePayload())
                    .compress(client.compression())
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
                    sink.success(new ClientSession(h, safeUri(endpoint.uri())));
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
                            + safeUri(endpoint.uri()) + " did not complete within " + bound.toMillis() + " ms (handshakeTimeout)",
                            Initiator.LOCAL_DETECTION, -1, Verdict.retry(), e));
        });
    }

    static Throwable mapError(Throwable err, URI uri) {
        Throwable mapped = mapError(err);
        if (mapped != err) {
            return mapped;
        }
        javax.net.ssl.SSLException tls = null;
        for (Throwable t = err; t != null && tls == null; t = t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException e) {
                tls = e;
            }
        }
        if (tls == null) {
            return err;
        }
        String host = uri.getHost() + ":" + (uri.getPort() == -1 ? 443 : uri.getPort());
        return new ConnectionFailedException("TLS handshake with " + host + " failed: " + describeTls(tls, uri.getHost())
                + ". The client verifies the server certificate and host name; give WebSocketClient.Builder.sslContext "
                + "a trust store that holds the server's certificate or its CA, and connect by a name the certificate lists",
                Initiator.LOCAL_DETECTION, -1, null, err);
    }

    /** Says what was wrong with the server's certificate, from the JDK's exception chain. */
    static String describeTls(Throwable tls, String host) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = tls; t != null; t = t.getCause()) {
            if (t instanceof java.security.cert.CertificateExpiredException) {
                return "the server certificate has expired (" + t.getMessage() + ")";
            }
            if (t instanceof java.security.cert.CertificateNotYetValidException) {
                return "the server certificate is not yet valid (" + t.getMessage() + ")";
            }
            all.append(' ').append(t.getMessage());
        }
        String text = all.toString();
        if (text.contains("No subject alternative") || text.contains("No name matching")) {
            return "the server certificate does not name host '" + host + "' (host name verification failed)";
        }
        if (text.contains("PKIX path building failed") || text.contains("unable to find valid certification path")) {
            return "the server certificate is not trusted (no chain to a trusted certificate authority; self-signed?)";
        }
        if (text.contains("bad_certificate") || text.contains("certificate_required")) {
            return "the server refused our client certificate (or we sent none)";
        }
        String first = tls.getMessage() == null ? tls.getClass().getSimpleName() : tls.getMessage();
        return first;
    }

    static Throwable mapError(Throwable err) {
        if (err instanceof WebSocketClientHandshakeException h && h.response() != null) {
            HttpResponse response = h.response();
            int status = response.status().code();
            Duration retryAfter = parseRetryAfter(response.headers().get("Retry-After"));
            return new WebSocketUpgradeException(status, retryAfter, response.headers().get("Location"), err);
        }
        return err;
    }

    /**
     * @param value a {@code Retry-After} value: seconds or an HTTP date
     * @return the delay, or null when absent or unreadable
     */
    public static @Nullable Duration parseRetryAfter(@Nullable String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        try {
            long seconds = Long.parseLong(v);
            return seconds < 0 ? null : Duration.ofSeconds(seconds);
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
                Duration d = Duration.between(ZonedDateTime.now(at.getZone()), at);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (RuntimeException unreadable) {
                return null;
            }
        }
    }

    static URI withQuery(URI base, Map<String, String> params) {
        if (params.isEmpty()) {
            return base;
        }
        StringBuilder q = new StringBuilder(base.getRawQuery() == null ? "" : base.getRawQuery());
        params.forEach((k, v) -> {
            if (q.length() > 0) {
                q.append('&');
            }
            q.append(URLEncoder.encode(k, StandardCharsets.UTF_8)).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8));
        });
        String s = base.getScheme() + "://" + base.getRawAuthority() + (base.getRawPath() == null || base.getRawPath().isEmpty() ? "/" : base.getRawPath())
                + "?" + q;
        return URI.create(s);
    }

    /** The URI without query or fragment: queries may carry tokens, and details are printed. */
    static String safeUri(URI uri) {
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() == -1 ? "" : ":" + uri.getPort())
                + (uri.getRawPath() == null ? "" : uri.getRawPath());
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
