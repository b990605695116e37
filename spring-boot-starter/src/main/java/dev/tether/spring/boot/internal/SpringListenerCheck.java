package dev.tether.spring.boot.internal;

import dev.tether.spring.boot.InvalidTetherPropertyException;
import org.springframework.boot.reactor.netty.NettyWebServer;
import org.springframework.boot.web.server.WebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContext;
import org.springframework.util.ClassUtils;

/**
 * Refuses {@code tether.websocket.server.listener=spring} where it cannot work, at start-up: no Spring WebFlux, not a
 * web application, or a web server other than Reactor Netty (Tether upgrades the connection itself and installs its
 * close handshake in the Netty pipeline).
 */
public final class SpringListenerCheck {

    private static final String PROPERTY = "tether.websocket.server.listener";
    private static final String WEBFLUX = "org.springframework.web.reactive.DispatcherHandler";
    private static final String NETTY_WEB_SERVER = "org.springframework.boot.reactor.netty.NettyWebServer";

    private SpringListenerCheck() {
    }

    /**
     * @param context the application context
     * @param mounted whether the {@link SpringListener} mapping is defined
     * @param started whether the web server must exist by now (at the server's start; before it, a web server not
     *                yet created is checked later)
     * @throws InvalidTetherPropertyException naming {@code tether.websocket.server.listener}
     */
    public static void check(ApplicationContext context, boolean mounted, boolean started) {
        ClassLoader loader = context.getClassLoader();
        if (!ClassUtils.isPresent(WEBFLUX, loader) || !ClassUtils.isPresent(NETTY_WEB_SERVER, loader)) {
            throw refused("Spring WebFlux on Reactor Netty (spring-boot-starter-webflux) to mount the server on; this "
                    + "application has none");
        }
        if (!mounted) {
            // The application's own hosted WebSocketServer bean, without the property that mounts it.
            throw new InvalidTetherPropertyException(PROPERTY, "", "spring, to mount the application's hosted "
                    + "WebSocketServer bean on Spring's server (or build that bean without hosted(true))");
        }
        Hosts.check(context, started);
    }

    private static InvalidTetherPropertyException refused(String what) {
        return new InvalidTetherPropertyException(PROPERTY, "spring", "own, unless the application runs " + what
                + " (with own the WebSocket server listens on tether.websocket.server.port)");
    }

    /** Touches Spring Boot's web server types only once they are known to be present. */
    private static final class Hosts {
        static void check(ApplicationContext context, boolean started) {
            if (!(context instanceof WebServerApplicationContext web)) {
                throw refused("a reactive web server: this application is not a web application "
                        + "(spring.main.web-application-type)");
            }
            WebServer server = web.getWebServer();
            if (server == null && !started) {
                return;
            }
            if (!(server instanceof NettyWebServer)) {
                throw refused("WebFlux on Reactor Netty: its web server is "
                        + (server == null ? "not created" : server.getClass().getSimpleName()));
            }
        }
    }
}
