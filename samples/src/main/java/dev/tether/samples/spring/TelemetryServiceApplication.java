package dev.tether.samples.spring;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * The telemetry service. Run it with {@code ./tether service}: with no settings it starts an
 * embedded MQTT broker that checks JWTs, subscribes to {@code telemetry/#} through Tether, and
 * serves {@code GET /lifecycle} and {@code GET /telemetry} (Server-Sent Events),
 * {@code /actuator/health} (with the MQTT connection's health) and a WebSocket endpoint on the same port,
 * {@code /ws/telemetry} ({@code tether.websocket.server.listener: spring}), that streams the telemetry. Tether is configured in
 * {@code application.yml}.
 */
@SpringBootApplication
public class TelemetryServiceApplication {

    private static final String ENDPOINTS = "tether.mqtt.clients.telemetry.endpoints";
    private static final String SECRET = "tether.mqtt.clients.telemetry.jwt.secret";

    /**
     * @param args Spring Boot arguments, e.g. {@code --tether.mqtt.clients.telemetry.endpoints=tcp://broker:1883
     *             --tether.mqtt.clients.telemetry.jwt.secret=...}
     */
    public static void main(String[] args) {
        SpringApplication app = new SpringApplication(TelemetryServiceApplication.class);
        app.addListeners((ApplicationEnvironmentPreparedEvent e) -> embeddedDefaults(e.getEnvironment()));
        app.run(args);
    }

    /**
     * The demo's default: with no broker configured, a random HS256 secret shared by the client and the embedded
     * broker. With a broker configured and no secret, nothing is invented: start-up stops naming the missing secret.
     */
    private static void embeddedDefaults(ConfigurableEnvironment env) {
        boolean noBroker = env.getProperty(ENDPOINTS) == null && env.getProperty(ENDPOINTS + "[0]") == null;
        if (noBroker && env.getProperty(SECRET) == null) {
            byte[] secret = new byte[32];
            new SecureRandom().nextBytes(secret);
            env.getPropertySources().addLast(new MapPropertySource("embedded-broker-secret",
                    Map.of(SECRET, Base64.getEncoder().encodeToString(secret))));
        }
    }
}
