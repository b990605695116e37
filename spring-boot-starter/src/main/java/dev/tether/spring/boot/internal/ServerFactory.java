package dev.tether.spring.boot.internal;

import dev.tether.spring.boot.InvalidTetherPropertyException;
import dev.tether.spring.boot.TetherProperties;
import dev.tether.spring.boot.TetherWebSocketHandler;
import dev.tether.spring.boot.TetherWebSocketServerCustomizer;
import dev.tether.websocket.onebot.OneBotAnnouncer;
import dev.tether.websocket.WebSocketServer;
import java.time.Duration;
import java.util.List;

/** Builds the WebSocket server from {@code tether.websocket.server.*}. */
public final class ServerFactory {

    private static final String P = "tether.websocket.server";

    private ServerFactory() {
    }

    /**
     * @param s           the settings
     * @param handler     the application's handler
     * @param customizers applied last, in order
     * @return the server, not started
     */
    public static WebSocketServer build(TetherProperties.Server s, TetherWebSocketHandler handler,
                                        List<TetherWebSocketServerCustomizer> customizers) {
        WebSocketServer.Builder b = WebSocketServer.builder().handler(handler::handle);
        boolean onSpring = s.listener() == TetherProperties.Listener.SPRING;
        if (onSpring) {
            notOnSpring(".host", s.host(), !s.host().equals(WebSocketServer.DEFAULT_HOST));
            notOnSpring(".port", s.port(), s.port() != WebSocketServer.DEFAULT_PORT);
            notOnSpring(".handshake-timeout", s.handshakeTimeout(),
                    !s.handshakeTimeout().equals(WebSocketServer.DEFAULT_HANDSHAKE_TIMEOUT));
            b.hosted(true);
        } else {
            Check.apply(P + ".host", s.host(), () -> b.host(s.host()));
            Check.apply(P + ".port", s.port(), () -> b.port(s.port()));
            Check.apply(P + ".handshake-timeout", s.handshakeTimeout(), () -> b.handshakeTimeout(s.handshakeTimeout()));
        }
        Check.apply(P + ".path", s.path(), () -> b.path(s.path()));
        if (!s.subprotocols().isEmpty()) {
            Check.apply(P + ".subprotocols", s.subprotocols(), () -> b.subprotocols(s.subprotocols().toArray(String[]::new)));
        }
        Integer maxSessions = s.maxSessions();
        if (maxSessions != null) {
            Check.apply(P + ".max-sessions", maxSessions, () -> b.maxSessions(maxSessions));
        }
        Integer perAddress = s.maxSessionsPerAddress();
        if (perAddress != null) {
            Check.apply(P + ".max-sessions-per-address", perAddress, () -> b.maxSessionsPerAddress(perAddress));
        }
        b.session(ConnectionFactory.session(P, s.closeHandshakeTimeout(), s.maxFramePayload(), s.maxMessageBytes(), s.heartbeat()));
        Check.apply(P + ".drain-timeout", s.drainTimeout(), () -> b.drainTimeout(s.drainTimeout()));
        TetherProperties.OneBot onebot = s.onebot();
        if (onebot.enabled()) {
            OneBotAnnouncer.Builder a = OneBotAnnouncer.builder(onebot.selfId()).enableDisable(onebot.enableDisable());
            Duration interval = onebot.heartbeatInterval();
            if (interval != null) {
                Check.apply(P + ".onebot.heartbeat-interval", interval, () -> a.heartbeatInterval(interval));
            }
            b.announcer(a.build());
        }
        for (TetherWebSocketServerCustomizer c : customizers) {
            c.customize(b);
        }
        if (onSpring) {
            try {
                return b.build();
            } catch (IllegalStateException e) {
                // A customizer set what Spring's server owns (a port, TLS, the accept-to-upgrade bound).
                throw new InvalidTetherPropertyException(P + ".listener", "spring", String.valueOf(e.getMessage()));
            }
        }
        return Check.get(P, "port=" + s.port() + ", path=" + s.path(), b::build);
    }

    private static void notOnSpring(String property, Object value, boolean set) {
        if (set) {
            throw new InvalidTetherPropertyException(P + property, Check.show(value), "not set with " + P
                    + ".listener=spring: Spring's HTTP server (server.*) accepts the connections then; remove " + P
                    + property + ", or set " + P + ".listener=own to give the WebSocket server its own port");
        }
    }
}
