// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of the chrdev crate: fields the Rust bindings reach only through
 * anonymous unions, whose generated names change with the struct.
 */

#include <linux/fs.h>

struct cdev *rmdev_inode_cdev(struct inode *inode);

struct cdev *rmdev_inode_cdev(struct inode *inode)
{
	return inode->i_cdev;
}
