// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ring xenbus driver skeleton: probe, remove, resume and
 * otherend_changed written once for every splitkit driver (splitkit_front,
 * splitkit_back, the ping pair, the hostile test frontend).  A driver fills
 * a struct sk_xb_driver with its device types and four small callbacks; the
 * skeleton keeps the device's struct sk_xb as drvdata, creates its sysfs
 * groups, announces it to the peer (sk_xb_start()) and hands every peer
 * state change to the state helper (ring/xbstate.c).  Teardown mirrors
 * probe: groups, driver stop, state helper (disconnect, Closed), driver free.
 */
#include <linux/device.h>
#include <linux/sysfs.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include <splitkit/export.h>
#include <splitkit/ring.h>

static struct sk_xb_driver *sk_xb_drv(struct xenbus_device *dev)
{
	return container_of(to_xenbus_driver(dev->dev.driver),
			    struct sk_xb_driver, drv);
}

/**
 * sk_xb_from_dev() - the state helper of a splitkit xenbus device.
 * @dev: the device (e.g. in a sysfs show function).
 *
 * Return: the struct sk_xb the driver's probe returned; its priv is the
 * driver's device state.
 */
struct sk_xb *sk_xb_from_dev(struct device *dev)
{
	return dev_get_drvdata(dev);
}
SPLITKIT_EXPORT(sk_xb_from_dev);

static int sk_xb_drv_probe(struct xenbus_device *dev,
			   const struct xenbus_device_id *id)
{
	struct sk_xb_driver *d = sk_xb_drv(dev);
	struct sk_xb *xb = NULL;
	int err;

	err = d->probe(dev, &xb);
	if (err)
		return err;
	dev_set_drvdata(&dev->dev, xb);
	if (d->groups) {
		err = sysfs_create_groups(&dev->dev.kobj, d->groups);
		if (err)
			goto free_dev;
	}
	err = sk_xb_start(xb);
	if (err)
		goto remove_groups;
	return 0;

remove_groups:
	if (d->groups)
		sysfs_remove_groups(&dev->dev.kobj, d->groups);
free_dev:
	dev_set_drvdata(&dev->dev, NULL);
	d->free(xb);
	return err;
}

static void sk_xb_drv_remove(struct xenbus_device *dev)
{
	struct sk_xb_driver *d = sk_xb_drv(dev);
	struct sk_xb *xb = dev_get_drvdata(&dev->dev);

	if (d->stop)
		d->stop(xb);
	if (d->groups)
		sysfs_remove_groups(&dev->dev.kobj, d->groups);
	sk_xb_remove(xb);
	dev_set_drvdata(&dev->dev, NULL);
	d->free(xb);
}

static void sk_xb_drv_otherend_changed(struct xenbus_device *dev,
				       enum xenbus_state state)
{
	sk_xb_peer_changed(dev_get_drvdata(&dev->dev), state);
}

static int sk_xb_drv_resume(struct xenbus_device *dev)
{
	struct sk_xb_driver *d = sk_xb_drv(dev);

	if (d->resume)
		d->resume(dev_get_drvdata(&dev->dev));
	return 0;
}

/**
 * __sk_xb_driver_register() - register a splitkit xenbus driver.
 * @d: the driver; @d->drv.name/.ids (and .not_essential) set.
 * @owner: THIS_MODULE.
 * @mod_name: KBUILD_MODNAME.
 *
 * Use sk_xb_driver_register().  Refuses to run outside Xen.
 *
 * Return: 0, -ENODEV outside a Xen domain, or the xenbus error.
 */
int __sk_xb_driver_register(struct sk_xb_driver *d, struct module *owner,
			    const char *mod_name)
{
	if (!xen_domain())
		return -ENODEV;
	d->drv.probe = sk_xb_drv_probe;
	d->drv.remove = sk_xb_drv_remove;
	d->drv.otherend_changed = sk_xb_drv_otherend_changed;
	if (d->frontend) {
		d->drv.resume = sk_xb_drv_resume;
		return __xenbus_register_frontend(&d->drv, owner, mod_name);
	}
	return __xenbus_register_backend(&d->drv, owner, mod_name);
}
SPLITKIT_EXPORT(__sk_xb_driver_register);

/**
 * sk_xb_driver_unregister() - unregister a splitkit xenbus driver.
 * @d: a driver sk_xb_driver_register() accepted.
 *
 * Every bound device is removed first (the driver's stop and free run).
 */
void sk_xb_driver_unregister(struct sk_xb_driver *d)
{
	xenbus_unregister_driver(&d->drv);
}
SPLITKIT_EXPORT(sk_xb_driver_unregister);
