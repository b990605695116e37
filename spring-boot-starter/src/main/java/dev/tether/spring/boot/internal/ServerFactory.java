package dev.tether.spring.boot.internal;

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
        Check.apply(P + ".host", s.host(), () -> b.host(s.host()));
        Check.apply(P + ".port", s.port(), () -> b.port(s.port()));
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
        Check.apply(P + ".handshake-timeout", s.handshakeTimeout(), () -> b.handshakeTimeout(s.handshakeTimeout()));
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
        return Check.get(P, "port=" + s.port() + ", path=" + s.path(), b::build);
    }
}
