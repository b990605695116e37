package dev.tether.spring.boot.internal;

import dev.tether.core.ResilientConnection;
import dev.tether.mqtt.MqttClient;
import dev.tether.websocket.WebSocketSession;
import java.util.LinkedHashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.context.EnvironmentAware;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.core.ResolvableType;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotationMetadata;

/**
 * Registers one bean per key of {@code tether.mqtt.clients} ({@link MqttClient}) and of {@code tether.websocket.clients}
 * ({@code ResilientConnection<WebSocketSession>}), named after the key and built by {@link ConnectionFactory}.
 */
public final class ClientBeansRegistrar implements ImportBeanDefinitionRegistrar, EnvironmentAware, BeanFactoryAware {

    static final ConfigurationPropertyName MQTT = ConfigurationPropertyName.of("tether.mqtt.clients");
    static final ConfigurationPropertyName WEBSOCKET = ConfigurationPropertyName.of("tether.websocket.clients");

    private @Nullable Environment environment;
    private @Nullable BeanFactory beanFactory;

    @Override
    public void setEnvironment(Environment environment) {
        this.environment = environment;
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        this.beanFactory = beanFactory;
    }

    @Override
    public void registerBeanDefinitions(AnnotationMetadata metadata, BeanDefinitionRegistry registry) {
        Environment env = environment;
        BeanFactory factory = beanFactory;
        if (env == null || factory == null) {
            throw new IllegalStateException("registrar used outside a Spring application context");
        }
        for (String name : keys(env, MQTT)) {
            RootBeanDefinition d = new RootBeanDefinition(MqttClient.class);
            d.setInstanceSupplier(() -> factory.getBean(ConnectionFactory.class).mqttClient(name));
            registry.registerBeanDefinition(name, d);
        }
        for (String name : keys(env, WEBSOCKET)) {
            RootBeanDefinition d = new RootBeanDefinition(ResilientConnection.class);
            d.setTargetType(ResolvableType.forClassWithGenerics(ResilientConnection.class, WebSocketSession.class));
            d.setInstanceSupplier(() -> factory.getBean(ConnectionFactory.class).webSocketClient(name));
            registry.registerBeanDefinition(name, d);
        }
    }

    /**
     * @param env    the environment
     * @param parent e.g. {@code tether.mqtt.clients}
     * @return the keys configured under it, in the order the sources give them
     */
    static Set<String> keys(Environment env, ConfigurationPropertyName parent) {
        Set<String> keys = new LinkedHashSet<>();
        for (ConfigurationPropertySource source : ConfigurationPropertySources.get(env)) {
            if (source instanceof IterableConfigurationPropertySource iterable) {
                iterable.filter(parent::isAncestorOf).stream().forEach(n -> {
                    if (n.getNumberOfElements() > parent.getNumberOfElements()) {
                        keys.add(n.getElement(parent.getNumberOfElements(), ConfigurationPropertyName.Form.ORIGINAL));
                    }
                });
            }
        }
        return keys;
    }
}
