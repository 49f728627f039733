// PROVISIONAL hand-written copy in the shape tauri-specta generates.
// It will be overwritten by the file generated from the Rust commands;
// keep nothing else in here (app code lives in api.ts).

/** user-defined commands **/

export const commands = {
async appInfo() : Promise<Result<AppInfo, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("app_info") };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async getSettings() : Promise<Result<ShopSettings, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("get_settings") };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async saveSettings(settings: ShopSettings) : Promise<Result<ShopSettings, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("save_settings", { settings }) };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async listTimezones() : Promise<Result<string[], ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("list_timezones") };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async listProducts(query: ProductQuery) : Promise<Result<ProductPage, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("list_products", { query }) };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async getProduct(id: number) : Promise<Result<Product, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("get_product", { id }) };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async createProduct(draft: ProductDraft) : Promise<Result<Product, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("create_product", { draft }) };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async updateProduct(id: number, draft: ProductDraft) : Promise<Result<Product, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("update_product", { id, draft }) };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async setArchived(id: number, archived: boolean) : Promise<Result<Product, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("set_archived", { id, archived }) };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async deleteProduct(id: number) : Promise<Result<null, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("delete_product", { id }) };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async addPhotoFromPath(productId: number, path: string) : Promise<Result<Product, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("add_photo_from_path", { productId, path }) };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async addPhotoFromBytes(productId: number, dataBase64: string) : Promise<Result<Product, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("add_photo_from_bytes", { productId, dataBase64 }) };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async removePhoto(productId: number, hash: string) : Promise<Result<Product, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("remove_photo", { productId, hash }) };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async importCatalog(path: string, skipInvalid: boolean) : Promise<Result<ImportReport, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("import_catalog", { path, skipInvalid }) };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async exportCatalog(path: string) : Promise<Result<ExportReport, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("export_catalog", { path }) };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
},
async parsePrice(price: string, currency: string) : Promise<Result<Money, ApiError>> {
    try {
    return { status: "ok", data: await TAURI_INVOKE("parse_price", { price, currency }) };
} catch (e) {
    if(e instanceof Error) throw e;
    else return { status: "error", error: e  as any };
}
}
}

/** user-defined events **/



/** user-defined constants **/



/** user-defined types **/

export type ApiError = { code: string; message: string; field: string | null }
export type AppInfo = { version: string; dataDir: string; logDir: string; databasePath: string }
export type ExportReport = { rows: number; path: string }
export type ImportReport = { created: number; updated: number; skipped: number; errors: RowError[]; applied: boolean }
export type Money = { amountMinor: number; currency: string }
export type Photo = { hash: string; mime: string; width: number; height: number }
export type Product = { id: number; sku: string | null; name: string; description: string; price: Money; stock: number | null; tags: string[]; archived: boolean; photos: Photo[]; createdAt: number; updatedAt: number }
export type ProductDraft = { sku: string | null; name: string; description: string; price: string; currency: string | null; stock: number | null; tags: string[] }
export type ProductPage = { items: ProductSummary[]; total: number; offset: number }
export type ProductQuery = { search: string | null; includeArchived: boolean; offset: number; limit: number }
export type ProductSummary = { id: number; sku: string | null; name: string; price: Money; stock: number | null; tags: string[]; archived: boolean; thumb: string | null }
export type RowError = { line: number; field: string | null; message: string }
export type ShopSettings = { name: string; currency: string; timezone: string; locale: string; buyLinkBase: string }

/** tauri-specta globals **/

import {
	invoke as TAURI_INVOKE,
	Channel as TAURI_CHANNEL,
} from "@tauri-apps/api/core";
import * as TAURI_API_EVENT from "@tauri-apps/api/event";
import { type WebviewWindow as __WebviewWindow__ } from "@tauri-apps/api/webviewWindow";

type __EventObj__<T> = {
	listen: (
		cb: TAURI_API_EVENT.EventCallback<T>,
	) => ReturnType<typeof TAURI_API_EVENT.listen<T>>;
	once: (
		cb: TAURI_API_EVENT.EventCallback<T>,
	) => ReturnType<typeof TAURI_API_EVENT.once<T>>;
	emit: null extends T
		? (payload?: T) => ReturnType<typeof TAURI_API_EVENT.emit>
		: (payload: T) => ReturnType<typeof TAURI_API_EVENT.emit>;
};

export type Result<T, E> =
	| { status: "ok"; data: T }
	| { status: "error"; error: E };

function __makeEvents__<T extends Record<string, any>>(
	mappings: Record<keyof T, string>,
) {
	const eventObjects: Record<string, T[keyof T]> = {};

	return new Proxy(
		{} as unknown as {
			[K in keyof T]: __EventObj__<T[K]> & {
				(handle: __WebviewWindow__): __EventObj__<T[K]>;
			};
		},
		{
			get: (_, event) => {
				const name = mappings[event as keyof T];

				let eventObject = eventObjects[name];
				if (!eventObject) {
					eventObject = new Proxy((() => {}) as any, {
						apply: (_, __, [window]: [__WebviewWindow__]) => ({
							listen: (arg: any) => window.listen(name, arg),
							once: (arg: any) => window.once(name, arg),
							emit: (arg: any) => window.emit(name, arg),
						}),
						get: (_, command: keyof __EventObj__<any>) => {
							switch (command) {
								case "listen":
									return (arg: any) => TAURI_API_EVENT.listen(name, arg);
								case "once":
									return (arg: any) => TAURI_API_EVENT.once(name, arg);
								case "emit":
									return (arg: any) => TAURI_API_EVENT.emit(name, arg);
							}
						},
					});

					eventObjects[name] = eventObject;
				}

				return eventObject;
			},
		},
	);
}
