package dev.tether.samples.spring;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * The telemetry service. Run it with {@code ./tether service}: with no settings it starts an
 * embedded MQTT broker that checks JWTs, subscribes to {@code telemetry/#} through Tether, and
 * serves {@code GET /lifecycle} and {@code GET /telemetry} (Server-Sent Events),
 * {@code /actuator/health} (with the MQTT connection's health) and a WebSocket endpoint on
 * {@code tether.websocket.server.port} (8081) that streams the telemetry. Tether is configured in
 * {@code application.yml}.
 */
@SpringBootApplication
public class TelemetryServiceApplication {

    /**
     * @param args Spring Boot arguments, e.g. {@code --tether.mqtt.clients.telemetry.endpoints=tcp://broker:1883
     *             --tether.mqtt.clients.telemetry.jwt.secret=...}
     */
    public static void main(String[] args) {
        SpringApplication app = new SpringApplication(TelemetryServiceApplication.class);
        // The demo's default: a random HS256 secret shared by the client and the embedded broker. Any configured
        // secret (argument, environment, application.yml) takes precedence over default properties.
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        app.setDefaultProperties(Map.of("tether.mqtt.clients.telemetry.jwt.secret",
                Base64.getEncoder().encodeToString(secret)));
        app.run(args);
    }
}
